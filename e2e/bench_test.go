//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/runtime"
)

// benchFigures are `doppler bench --json`'s report, which the browser's
// bench sends too, with the browser's extras.
type benchFigures struct {
	runtime.BenchReport
	Model string `json:"model"`
}

// The bench page measures a stored model in the service worker and shows
// the CLI's figures: the weights a token reads as `doppler bench` counts
// them for the file under Node (engine/cmd/doppler's tests check that
// count against the file's tensors);
// one Go→JS call or fewer per decoded token. The warm model it freed
// loads again for the next request.
func TestBenchPageMeasuresStoredModel(t *testing.T) {
	b := Start(t, Options{})
	page := b.MustOpenPage(t, "bench.html")
	uiWait(t, b, page, 30*time.Second, `window.dopplerReady === true`)
	assert.Contains(t, uiText(t, b, page, "bench-error"), "No model is installed yet", "without a model the page says so")
	off, err := EvalPage[bool](b, page, `document.getElementById('bench-run').disabled`)
	require.NoError(t, err)
	assert.True(t, off, "and offers no run")

	model := uiInstallModel(t, b)
	got := complete(t, b, model, "", importPrompt, 8, true) // the model is warm now
	require.Equal(t, importGreedy[:8], got.Tokens)

	uiReload(t, b, page)
	uiWait(t, b, page, 30*time.Second, `document.querySelectorAll('#bench-model option').length === 1`)
	_, err = EvalPage[bool](b, page, `(() => { document.getElementById('bench-prompt').value = '64';
		document.getElementById('bench-gen').value = '32'; return true; })()`)
	require.NoError(t, err)
	uiClick(t, b, page, "bench-run")
	uiWait(t, b, page, 3*time.Minute, `document.body.dataset.state === 'done' || document.body.dataset.state === 'error'`)
	require.Empty(t, uiText(t, b, page, "bench-error"))
	var r benchFigures
	require.NoError(t, json.Unmarshal([]byte(uiText(t, b, page, "bench-json")), &r))
	t.Logf("browser bench: %+v", r)

	assert.Equal(t, model, r.Model)
	assert.Contains(t, []string{"f32", "f16"}, r.Precision)
	assert.NotEmpty(t, r.Device)
	for name, v := range map[string]float64{"prefill_tok_s": r.PrefillTokS, "decode_tok_s": r.DecodeTokS, "ttft_ms": r.TTFTms,
		"ttft_new_length_ms": r.TTFTNewLengthMs, "load_ms": r.LoadMs, "dispatches_per_token": r.DispatchesPerToken} {
		assert.Greater(t, v, 0.0, name)
	}
	assert.Greater(t, r.JSCallsPerToken, 0.0)
	assert.LessOrEqual(t, r.JSCallsPerToken, 1.0, "at most one Go→JS call per decoded token")

	path := sharedModel(t, "stories260K.gguf")
	assert.Greater(t, float64(r.GPUBytes), r.WeightBytesPerToken, "GPU memory holds the weights and more")
	var cli benchFigures
	runCLI(t, &cli, "bench", "--model", path, "--prompt-tokens", "64", "--gen-tokens", "32")
	assert.Equal(t, cli.WeightBytesPerToken, r.WeightBytesPerToken, "the CLI under Node counts the same bytes")

	shown := uiSquash(uiText(t, b, page, "bench-rows"))
	for _, want := range []string{"Prefill", "Decode", "Implied bandwidth", "Go→JS calls per token", r.Device} {
		assert.Contains(t, shown, uiSquash(want))
	}
	// The page with its figures passes axe, light and dark.
	for _, dark := range []bool{false, true} {
		name := map[bool]string{false: "bench", true: "bench-dark"}[dark]
		uiDarkMode(t, page, dark)
		for _, v := range uiRunAxe(t, b, page) {
			t.Errorf("%s: axe %s (%s): %s\n  %s", name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
		}
		uiScreenshot(t, page, name)
	}

	// The bench freed the warm model; the next request loads it again.
	again := complete(t, b, model, "", importPrompt, 8, true)
	assert.Equal(t, importGreedy[:8], again.Tokens)

	// Requests the engine refuses come back as errors of their id.
	p := openClient(t, b)
	bad := request(t, b, p, `{type: 'bench', id: 'bench-bad', genTokens: 1}`, "done", "error")
	assert.Equal(t, "error", bad.Type)
	assert.Equal(t, "bench-bad", bad.ID)
	assert.Contains(t, bad.Message, "genTokens ≥ 2")
	missing := request(t, b, p, `{type: 'bench', id: 'bench-missing', modelId: 'no-such-model', promptTokens: 8, genTokens: 2}`, "done", "error")
	assert.Equal(t, "no-model", missing.Code, missing.Message)
	warm := workerEval[map[string]any](t, b, `startEngine().then(e => e.loaded())`)
	assert.Equal(t, model, warm["id"], "a bench that cannot start leaves the warm model loaded")

	// A long bench stops when cancelled, and the queue moves on.
	queued := request(t, b, p, `{type: 'bench', id: 'bench-long', promptTokens: 512, genTokens: 1000}`, "queued", "error")
	require.Equal(t, "queued", queued.Type, queued.Message)
	time.Sleep(time.Second)
	stopped := request(t, b, p, `{type: 'cancel', id: 'bench-long'}`, "done", "error")
	assert.Equal(t, "cancelled", stopped.Code, stopped.Message)
	after := complete(t, b, model, "", importPrompt, 8, true)
	assert.Equal(t, importGreedy[:8], after.Tokens)

	// A page opened (here reloaded) while a bench measures follows it to
	// its end and shows its figures: one started over the Port, with a
	// context the page's own runs never set.
	elsewhere := request(t, b, p, `{type: 'bench', id: 'bench-elsewhere', promptTokens: 64, genTokens: 32, context: 256}`, "queued", "error")
	require.Equal(t, "queued", elsewhere.Type, elsewhere.Message)
	uiReload(t, b, page)
	uiWait(t, b, page, 3*time.Minute, `document.body.dataset.state === 'done' || document.body.dataset.state === 'error'`)
	require.Empty(t, uiText(t, b, page, "bench-error"))
	var resumed benchFigures
	require.NoError(t, json.Unmarshal([]byte(uiText(t, b, page, "bench-json")), &resumed))
	assert.Equal(t, 256, resumed.Context, "the figures are the attached bench's")
	assert.Greater(t, resumed.DecodeTokS, 0.0)
	assert.Equal(t, model, resumed.Model)
}
