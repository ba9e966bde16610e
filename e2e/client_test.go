//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// A test-only extension page that speaks the Port protocol: written into the
// e2e copy of the extension (never into dist/ or the store zip). Unpacked
// extensions read their files on demand, so adding it after launch works.
const clientHTML = `<!doctype html><meta charset="utf-8"><title>e2e client</title><script src="e2e-client.js"></script>`

const clientJS = `'use strict';
// dp keeps every message the worker sent, and reconnects on demand.
window.dp = (() => {
  const msgs = [];
  let port = null;
  function connect() {
    port = chrome.runtime.connect({ name: 'doppler' });
    const p = port;
    p.onMessage.addListener((m) => msgs.push(m));
    p.onDisconnect.addListener(() => { if (p === port) msgs.push({ type: 'disconnected' }); });
  }
  connect();
  return {
    msgs,
    connect,
    send(m) { port.postMessage(m); },
    // wait resolves with the first message (from index from) of request id
    // whose type is in types.
    wait(id, types, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const look = () => {
          for (let i = from; i < msgs.length; i++) {
            const m = msgs[i];
            if ((id === null || m.id === id) && types.includes(m.type)) return resolve(m);
          }
          if (Date.now() - t0 > timeoutMs) return reject(new Error('timed out waiting for ' + types + ' of ' + id + '; got ' + JSON.stringify(msgs.slice(-5))));
          setTimeout(look, 50);
        };
        look();
      });
    },
    // request sends m and waits for its reply of one of types.
    request(m, types, timeoutMs = 50000) {
      const from = msgs.length;
      this.send(m);
      return this.wait(m.id, types, timeoutMs, from);
    },
  };
})();
`

// openClient opens the protocol client page in b.
func openClient(t *testing.T, b *Browser) *Page {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(b.ExtensionDir, "e2e-client.html"), []byte(clientHTML), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(b.ExtensionDir, "e2e-client.js"), []byte(clientJS), 0o644))
	p := b.MustOpenPage(t, "e2e-client.html")
	_, err := EvalPage[bool](b, p, `typeof dp === 'object'`)
	require.NoError(t, err)
	return p
}

// protoMsg is any worker → UI message.
type protoMsg struct {
	Type    string          `json:"type"`
	ID      any             `json:"id"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Stop    string          `json:"stop"`
	Text    string          `json:"text"`
	Phase   string          `json:"phase"`
	Bytes   int64           `json:"bytes"`
	Total   int64           `json:"total"`
	Model   json.RawMessage `json:"model"`
	Models  []storeModel    `json:"models"`
	State   string          `json:"state"`
}

// storeModel is an entry of the models reply (storage/store.Model).
type storeModel struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Architecture string `json:"architecture"`
	Quantization string `json:"quantization"`
	Source       string `json:"source"`
	SourceBytes  int64  `json:"sourceBytes"`
	Bytes        int64  `json:"bytes"`
	Ready        bool   `json:"ready"`
	Downloaded   int64  `json:"downloaded"`
	Corrupt      bool   `json:"corrupt"`
}

// request sends msg (a JS object literal) through the client and waits for
// its reply of one of types.
func request(t *testing.T, b *Browser, p *Page, msg string, types ...string) protoMsg {
	t.Helper()
	tj, _ := json.Marshal(types)
	m, err := Eval[protoMsg](p.Ctx, 55*time.Second, fmt.Sprintf(`dp.request(%s, %s)`, msg, tj))
	require.NoError(t, err)
	return m
}

// listModels asks the worker for the model list.
func listModels(t *testing.T, b *Browser, p *Page) []storeModel {
	t.Helper()
	m := request(t, b, p, `{type: 'models', id: 'models-' + Math.random()}`, "models", "error")
	require.Equal(t, "models", m.Type, "models: %s %s", m.Code, m.Message)
	return m.Models
}

func findModel(models []storeModel, id string) *storeModel {
	for i := range models {
		if models[i].ID == id {
			return &models[i]
		}
	}
	return nil
}

// workerEval evaluates expr in the extension's current service worker,
// attaching afresh each time: the harness's Worker caches its first target,
// which is gone once the worker was stopped and started again. It waits up
// to Options.OpTimeout (60 s by default).
func workerEval[T any](t *testing.T, b *Browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, b.opts.OpTimeout)
	defer cancel()
	prefix := b.ExtensionURL("")
	for {
		targets, err := chromedp.Targets(b.Ctx)
		require.NoError(t, err)
		for _, tg := range targets {
			if tg.Type != "service_worker" || !strings.HasPrefix(tg.URL, prefix) {
				continue
			}
			wctx, _ := chromedp.NewContext(b.Ctx, chromedp.WithTargetID(tg.TargetID), chromedp.WithDetachOnCancel())
			v, err := Eval[T](wctx, b.opts.OpTimeout, expr)
			require.NoError(t, err)
			return v
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no service worker of the extension: %v", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// completion is dopplerEngine.complete's reply.
type completion struct {
	Tokens  []int32 `json:"tokens"`
	Stop    string  `json:"stop"`
	Model   string  `json:"model"`
	Backend string  `json:"backend"`
	LoadMs  float64 `json:"loadMs"`
}

// complete runs a greedy continuation of tokens in the worker.
func complete(t *testing.T, b *Browser, modelID, backend string, tokens []int32, n int, ignoreEOS bool) completion {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"model": modelID, "backend": backend, "tokens": tokens, "maxTokens": n, "ignoreEOS": ignoreEOS})
	return workerEval[completion](t, b, fmt.Sprintf(`startEngine().then(e => e.complete(%s))`, req))
}

// configureStore sets the worker store's shard size and retry backoff.
func configureStore(t *testing.T, b *Browser, shardSize int64) {
	t.Helper()
	workerEval[any](t, b, fmt.Sprintf(`startEngine().then(e => e.configure({shardSize: %d, backoffMs: 100}))`, shardSize))
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// cli builds the native doppler command once per test binary.
func cli(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			cliErr = err
			return
		}
		// In the ignored .cache/bin, so runs reuse it (go build is incremental).
		cliPath = filepath.Join(root, ".cache", "bin", "doppler-e2e")
		cmd := exec.Command("go", "build", "-o", cliPath, "./engine/cmd/doppler")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("building the doppler CLI: %v\n%s", err, out)
		}
	})
	require.NoError(t, cliErr)
	return cliPath
}

// runCLI runs the native CLI with --json and decodes its output.
func runCLI(t *testing.T, v any, args ...string) {
	t.Helper()
	cmd := exec.Command(cli(t), append(args, "--json")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "doppler %v: %s", args, stderr.String())
	require.NoError(t, json.Unmarshal(out, v))
}

// synthGemma writes the tiny synthetic Gemma 3 GGUF (~9 MB, f32).
func synthGemma(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "synth-gemma3.gguf")
	var res map[string]any
	runCLI(t, &res, "synth", "--shape", "tiny", "--arch", "gemma3", "-o", path)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return path, data
}

// nativeGreedy is the native CPU reference's greedy continuation.
func nativeGreedy(t *testing.T, modelPath string, tokens []int32, n int) []int32 {
	t.Helper()
	ids := make([]string, len(tokens))
	for i, id := range tokens {
		ids[i] = fmt.Sprint(id)
	}
	var g struct {
		Tokens []int32 `json:"tokens"`
	}
	runCLI(t, &g, "generate", "--model", modelPath, "--tokens", strings.Join(ids, ","), "--max-tokens", fmt.Sprint(n),
		"--backend", "cpu", "--ignore-eos")
	return g.Tokens
}

// ggufServer serves one file with Range support (http.ServeContent, with a
// Last-Modified for If-Range) and can cut or stall the first response.
type ggufServer struct {
	data    []byte
	modTime time.Time

	mu       sync.Mutex
	requests []servedRequest
	// cutAt > 0 drops the connection of the first full response after that
	// many body bytes; with stall set, it first waits for stall to close.
	cutAt   int64
	stall   chan struct{}
	stalled chan struct{}
}

type servedRequest struct {
	Range string
	Bytes int64
}

func newGGUFServer(data []byte) *ggufServer {
	return &ggufServer{data: data, modTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), stalled: make(chan struct{})}
}

func (s *ggufServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	first := len(s.requests) == 0
	s.requests = append(s.requests, servedRequest{Range: r.Header.Get("Range")})
	idx := len(s.requests) - 1
	s.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w, limit: -1}
	if first && s.cutAt > 0 && r.Method == http.MethodGet {
		cw.limit = s.cutAt
		cw.stall, cw.stalled = s.stall, s.stalled
	}
	defer func() {
		s.mu.Lock()
		s.requests[idx].Bytes = cw.n
		s.mu.Unlock()
	}()
	// Keep Chromium's HTTP cache out of it: it would store the cut-off
	// response and revalidate it with requests of its own.
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(cw, r, "model.gguf", s.modTime, bytes.NewReader(s.data))
}

func (s *ggufServer) served() []servedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]servedRequest(nil), s.requests...)
}

// countingWriter counts body bytes and aborts the connection at limit.
type countingWriter struct {
	http.ResponseWriter
	n       int64
	limit   int64
	stall   chan struct{}
	stalled chan struct{}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.limit >= 0 && w.n+int64(len(p)) > w.limit {
		p = p[:w.limit-w.n]
		n, _ := w.ResponseWriter.Write(p)
		w.n += int64(n)
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		if w.stall != nil {
			close(w.stalled)
			<-w.stall
		}
		panic(http.ErrAbortHandler) // drops the connection mid-body
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
