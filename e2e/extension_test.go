//go:build e2e

package e2e

import (
	"archive/zip"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusMsg is the worker's reply to {type:"status"} (DESIGN.md).
type statusMsg struct {
	Type   string `json:"type"`
	ID     int    `json:"id"`
	WebGPU *struct {
		Adapter struct {
			Vendor            string `json:"vendor"`
			Architecture      string `json:"architecture"`
			Description       string `json:"description"`
			IsFallbackAdapter bool   `json:"isFallbackAdapter"`
		} `json:"adapter"`
		Features []string          `json:"features"`
		Limits   map[string]uint64 `json:"limits"`
	} `json:"webgpu"`
	Reason  string `json:"reason"`
	Version string `json:"version"`
}

func requireWebGPU(t *testing.T, st statusMsg) {
	t.Helper()
	require.Equal(t, "status", st.Type)
	require.NotNil(t, st.WebGPU, "the engine found no WebGPU: %s", st.Reason)
	a := st.WebGPU.Adapter
	assert.NotEmpty(t, a.Vendor+a.Architecture+a.Description, "adapter info")
	// Headless Chromium here runs SwiftShader, which offers subgroups; any
	// real GPU does too.
	assert.Contains(t, st.WebGPU.Features, "subgroups")
	// The engine requests the adapter's limits, above WebGPU's defaults.
	assert.Greater(t, st.WebGPU.Limits["maxBufferSize"], uint64(256<<20))
	assert.GreaterOrEqual(t, st.WebGPU.Limits["maxStorageBufferBindingSize"], uint64(128<<20))
	assert.GreaterOrEqual(t, st.WebGPU.Limits["maxComputeWorkgroupStorageSize"], uint64(16<<10))
	assert.NotEmpty(t, st.Version)
}

// engineStatus waits in the worker for the Go engine's global (background.js
// instantiates engine.wasm when the worker starts) and calls its
// Promise-returning status().
const engineStatus = `(async () => {
	for (let i = 0; i < 600 && !globalThis.dopplerEngine; i++) {
		await new Promise(r => setTimeout(r, 50));
	}
	if (!globalThis.dopplerEngine) throw new Error('engine.wasm did not load in 30 s');
	const p = dopplerEngine.status();
	if (!(p instanceof Promise)) throw new Error('dopplerEngine.status() must return a Promise');
	return {type: 'status', ...(await p)};
})()`

func TestExtensionServiceWorkerReportsWebGPU(t *testing.T) {
	b := Start(t, Options{})
	st, err := EvalWorker[statusMsg](b, engineStatus)
	require.NoError(t, err)
	requireWebGPU(t, st)
	t.Logf("worker: %s %s %s, features %v, maxBufferSize %d", st.WebGPU.Adapter.Vendor,
		st.WebGPU.Adapter.Architecture, st.WebGPU.Adapter.Description, st.WebGPU.Features, st.WebGPU.Limits["maxBufferSize"])

	version, err := EvalWorker[string](b, `dopplerEngine.version`)
	require.NoError(t, err)
	assert.Equal(t, st.Version, version)

	// The runtime's one-call replay must be loaded, or every dispatch of a
	// decode step costs several Go→JS calls.
	replay, err := EvalWorker[string](b, `typeof globalThis.dopplerReplay`)
	require.NoError(t, err)
	assert.Equal(t, "function", replay)
}

// portRequest sends msg over a new "doppler" Port from the page's context
// and resolves with the first reply carrying msg's id.
func portRequest(msg string) string {
	return `new Promise((resolve, reject) => {
		const msg = ` + msg + `;
		const port = chrome.runtime.connect({name: 'doppler'});
		port.onMessage.addListener(reply => { if (reply.id === msg.id) { resolve(reply); port.disconnect(); } });
		port.onDisconnect.addListener(() => reject(new Error('port closed before the reply')));
		port.postMessage(msg);
	})`
}

func TestExtensionPagesGetStatusOverPort(t *testing.T) {
	b := Start(t, Options{})
	for _, page := range []string{"popup.html", "sidepanel.html", "options.html"} {
		t.Run(page, func(t *testing.T) {
			p := b.MustOpenPage(t, page)
			st, err := EvalPage[statusMsg](b, p, portRequest(`{type: 'status', id: 41}`))
			require.NoError(t, err)
			requireWebGPU(t, st)
			assert.Equal(t, 41, st.ID, "the reply carries the request id")
		})
	}
}

func TestPortRejectsUnknownMessage(t *testing.T) {
	b := Start(t, Options{})
	p := b.MustOpenPage(t, "popup.html")
	reply, err := EvalPage[map[string]any](b, p, portRequest(`{type: 'no-such-type', id: 'x7'}`))
	require.NoError(t, err)
	assert.Equal(t, "error", reply["type"])
	assert.Equal(t, "x7", reply["id"])
	assert.Equal(t, "internal", reply["code"])
}

func TestStoreZipIsTheExtensionWithoutOverlay(t *testing.T) {
	root, err := RepoRoot()
	require.NoError(t, err)
	zr, err := zip.OpenReader(filepath.Join(root, "dist", "doppler-extension.zip"))
	require.NoError(t, err, "run make build")
	defer zr.Close()
	names := map[string]bool{}
	var manifest map[string]any
	for _, f := range zr.File {
		names[f.Name] = true
		if f.Name == "manifest.json" {
			r, err := f.Open()
			require.NoError(t, err)
			data, err := io.ReadAll(r)
			r.Close()
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(data, &manifest))
		}
	}
	for _, want := range []string{"manifest.json", "background.js", "wasm_exec.js", "engine.wasm", "popup.html", "sidepanel.html", "options.html"} {
		assert.True(t, names[want], "zip holds %s", want)
	}
	require.NotNil(t, manifest)
	assert.NotContains(t, manifest, "host_permissions", "the e2e overlay never reaches the store zip")
	assert.NotContains(t, manifest, "key", "the Web Store assigns its own key")
}
