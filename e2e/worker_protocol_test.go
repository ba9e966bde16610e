//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The worker's side of the Port protocol (extension/protocol.md) on
// stories260K: streamed tasks, the queue, cancel, results kept for a
// closed popup, a killed worker, and who may connect.

type taskStats struct {
	Model        string  `json:"model"`
	Backend      string  `json:"backend"`
	PromptTokens int     `json:"promptTokens"`
	Tokens       int     `json:"tokens"`
	Ms           float64 `json:"ms"`
	TTFTms       float64 `json:"ttftMs"`
	LoadMs       float64 `json:"loadMs"`
	Cold         bool    `json:"cold"`
}

type taskEnd struct {
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Stop     string    `json:"stop"`
	Text     string    `json:"text"`
	State    string    `json:"state"`
	Position int       `json:"position"`
	Stats    taskStats `json:"stats"`
}

// installStories downloads stories260K (a real tiny model: its answers are
// text) into the worker's store as model "stories".
func installStories(t *testing.T, b *Browser, p *Page) {
	t.Helper()
	data, err := os.ReadFile(sharedModel(t, "stories260K.gguf"))
	require.NoError(t, err)
	srv := Serve(t, newGGUFServer(data))
	done := request(t, b, p, fmt.Sprintf(`{type: 'download', id: 'install', url: %q, modelId: 'stories'}`, srv.URL+"/model.gguf"),
		"done", "error")
	require.Equal(t, "done", done.Type, "%s %s", done.Code, done.Message)
}

// summarize is a task message; stories260K has no chat template, so the
// prompt is plain text.
// The CPU reference is fast on this model; the WebGPU backend (SwiftShader
// here) is slow enough to catch a task while it runs.
func summarize(id string, maxTokens int) string { return summarizeOn(id, maxTokens, "cpu") }

func summarizeOn(id string, maxTokens int, backend string) string {
	return fmt.Sprintf(`{type: 'task', id: %q, task: 'summarize', input: {text: 'Once upon a time there was a little dog. The dog liked to play in the park.', title: 'A dog', lang: 'en'}, options: {model: 'stories', backend: %q, maxTokens: %d, type: 'tldr'}}`, id, backend, maxTokens)
}

// chatOn is a one-message chat task.
func chatOn(id string, maxTokens int, backend string) string {
	return fmt.Sprintf(`{type: 'task', id: %q, task: 'chat', input: {messages: [{role: 'user', content: 'Tell me about the dog.'}]}, options: {model: 'stories', backend: %q, maxTokens: %d}}`, id, backend, maxTokens)
}

// tokensOf concatenates the token messages of request id the client got.
func tokensOf(t *testing.T, b *Browser, p *Page, id string) string {
	t.Helper()
	s, err := EvalPage[string](b, p, fmt.Sprintf(`dp.msgs.filter(m => m.id === %q && m.type === 'token').map(m => m.text).join('')`, id))
	require.NoError(t, err)
	return s
}

// requestEnd sends msg and decodes its result, done or error reply.
func requestEnd(t *testing.T, p *Page, msg string) taskEnd {
	t.Helper()
	m, err := Eval[taskEnd](p.Ctx, 55*time.Second, `dp.request(`+msg+`, ['result', 'done', 'error'])`)
	require.NoError(t, err)
	return m
}

func waitEnd(t *testing.T, b *Browser, p *Page, id string) taskEnd {
	t.Helper()
	m, err := Eval[taskEnd](p.Ctx, 55*time.Second, fmt.Sprintf(`dp.wait(%q, ['done', 'error'], 50000)`, id))
	require.NoError(t, err)
	return m
}

func TestWorkerTaskProtocol(t *testing.T) {
	b := Start(t, Options{})
	p := openClient(t, b)
	installStories(t, b, p)

	t.Run("streams tokens, then done with stats", func(t *testing.T) {
		_, err := EvalPage[any](b, p, `dp.send(`+summarize("t1", 12)+`)`)
		require.NoError(t, err)
		end := waitEnd(t, b, p, "t1")
		require.Equal(t, "done", end.Type, "%s %s", end.Code, end.Message)
		assert.NotEmpty(t, end.Text)
		assert.Equal(t, end.Text, tokensOf(t, b, p, "t1"), "the token deltas add up to the answer")
		assert.Contains(t, []string{"eos", "length"}, end.Stop)
		assert.Equal(t, "stories", end.Stats.Model)
		assert.Equal(t, "cpu", end.Stats.Backend)
		assert.Greater(t, end.Stats.PromptTokens, 10)
		assert.True(t, end.Stats.Cold)
		assert.Greater(t, end.Stats.LoadMs, 0.0)

		again := request(t, b, p, summarize("t2", 12), "done", "error")
		require.Equal(t, "done", again.Type)
		var st taskStats
		st, err = EvalPage[taskStats](b, p, `dp.msgs.find(m => m.id === 't2' && m.type === 'done').stats`)
		require.NoError(t, err)
		assert.False(t, st.Cold, "the model stays loaded between tasks")
		assert.Zero(t, st.LoadMs)
		t.Logf("cold task %.0f ms (load %.0f ms, first text %.0f ms); warm task %.0f ms (first text %.0f ms)",
			end.Stats.Ms, end.Stats.LoadMs, end.Stats.TTFTms, st.Ms, st.TTFTms)
	})

	t.Run("the WebGPU backend answers as the CPU reference does", func(t *testing.T) {
		var ends []taskEnd
		for _, c := range []struct{ id, backend string }{{"c1", "cpu"}, {"g1", "webgpu"}, {"g2", "webgpu"}} {
			_, err := EvalPage[any](b, p, `dp.send(`+chatOn(c.id, 12, c.backend)+`)`)
			require.NoError(t, err)
			end := waitEnd(t, b, p, c.id)
			require.Equal(t, "done", end.Type, "%s %s", end.Code, end.Message)
			assert.Equal(t, c.backend, end.Stats.Backend)
			ends = append(ends, end)
		}
		assert.NotEmpty(t, ends[0].Text)
		assert.Equal(t, ends[0].Text, ends[1].Text, "greedy: the same answer on both backends")
		assert.Equal(t, ends[0].Text, ends[2].Text)
		assert.True(t, ends[1].Stats.Cold, "switching backend loads the model again")
		assert.False(t, ends[2].Stats.Cold)
		t.Logf("chat, %d prompt tokens: cpu %.0f ms; webgpu cold %.0f ms (load %.0f ms, first text %.0f ms), warm %.0f ms (first text %.0f ms)",
			ends[2].Stats.PromptTokens, ends[0].Stats.Ms, ends[1].Stats.Ms, ends[1].Stats.LoadMs, ends[1].Stats.TTFTms, ends[2].Stats.Ms, ends[2].Stats.TTFTms)
	})

	t.Run("one at a time; cancel queued and running", func(t *testing.T) {
		_, err := EvalPage[any](b, p, `dp.send(`+summarizeOn("t3", 400, "webgpu")+`); dp.send(`+summarize("t4", 4)+`)`)
		require.NoError(t, err)
		q, err := Eval[taskEnd](p.Ctx, 20*time.Second, `dp.wait('t4', ['queued'], 15000)`)
		require.NoError(t, err)
		assert.Equal(t, 1, q.Position, "t4 waits behind t3")
		_, err = Eval[taskEnd](p.Ctx, 35*time.Second, `dp.wait('t3', ['token'], 30000)`)
		require.NoError(t, err, "t3 runs")
		request(t, b, p, `{type: 'status', id: 's1'}`, "status")
		busy, err := EvalPage[string](b, p, `dp.msgs.find(m => m.id === 's1').busy`)
		require.NoError(t, err)
		assert.Equal(t, "t3", busy)

		_, err = EvalPage[any](b, p, `dp.send({type: 'cancel', id: 't4'})`)
		require.NoError(t, err)
		e4 := waitEnd(t, b, p, "t4")
		assert.Equal(t, "error", e4.Type)
		assert.Equal(t, "cancelled", e4.Code)

		_, err = EvalPage[any](b, p, `dp.send({type: 'cancel', id: 't3'})`)
		require.NoError(t, err)
		e3 := waitEnd(t, b, p, "t3")
		if e3.Type == "done" {
			t.Logf("t3 ended (%s) before the cancel arrived", e3.Stop)
		} else {
			assert.Equal(t, "cancelled", e3.Code)
		}
		// The queue moves on.
		next := request(t, b, p, summarize("t5", 3), "done", "error")
		assert.Equal(t, "done", next.Type, "%s %s", next.Code, next.Message)
	})

	t.Run("a closed popup's result is kept", func(t *testing.T) {
		p2 := openClient(t, b)
		_, err := EvalPage[any](b, p2, `dp.send(`+summarize("t6", 8)+`)`)
		require.NoError(t, err)
		_, err = Eval[taskEnd](p2.Ctx, 20*time.Second, `dp.wait('t6', ['queued'], 15000)`)
		require.NoError(t, err)
		p2.Close()
		var res taskEnd
		require.Eventually(t, func() bool {
			res = requestEnd(t, p, `{type: 'attach', id: 't6'}`)
			return res.State == "done"
		}, 40*time.Second, 300*time.Millisecond)
		assert.NotEmpty(t, res.Text+res.Stop)
		assert.Equal(t, "stories", res.Stats.Model)
		unknown := request(t, b, p, `{type: 'attach', id: 'no-such-task'}`, "result", "error")
		assert.Equal(t, "unknown", unknown.State)
	})

	t.Run("a killed worker reports worker-restarted", func(t *testing.T) {
		_, err := EvalPage[any](b, p, `dp.send(`+summarizeOn("t7", 400, "webgpu")+`)`)
		require.NoError(t, err)
		_, err = Eval[taskEnd](p.Ctx, 35*time.Second, `dp.wait('t7', ['token'], 30000)`)
		require.NoError(t, err)
		_, err = chromedp.Call(p.Ctx, serviceworker.Enable, cdp.Empty{})
		require.NoError(t, err)
		_, err = chromedp.Call(p.Ctx, serviceworker.StopAllWorkers, cdp.Empty{})
		require.NoError(t, err)
		_, err = EvalPage[any](b, p, `dp.wait(null, ['disconnected'], 20000)`)
		require.NoError(t, err)
		_, err = EvalPage[any](b, p, `dp.connect()`)
		require.NoError(t, err)
		e7, err := Eval[taskEnd](p.Ctx, 40*time.Second, `dp.wait('t7', ['error'], 30000, dp.msgs.findIndex(m => m.type === 'disconnected'))`)
		require.NoError(t, err)
		assert.Equal(t, "worker-restarted", e7.Code)
		again := request(t, b, p, `{type: 'attach', id: 't7'}`, "result", "error")
		assert.Equal(t, "worker-restarted", again.Code)
		// Results of earlier lives survive in chrome.storage.session.
		kept := request(t, b, p, `{type: 'attach', id: 't6'}`, "result", "error")
		assert.Equal(t, "done", kept.State)
		// And the new worker works.
		next := request(t, b, p, summarize("t8", 3), "done", "error")
		assert.Equal(t, "done", next.Type, "%s %s", next.Code, next.Message)
	})

	t.Run("keeps itself alive and the model warm, then unloads", func(t *testing.T) {
		// Shorten the timings (20 s and 5 min in use) and count the
		// heartbeat's extension API calls.
		workerEval[any](t, b, `(() => {
			tuning.keepAliveMs = 150; tuning.warmMs = 1500;
			self.pings = 0;
			const orig = chrome.runtime.getPlatformInfo.bind(chrome.runtime);
			chrome.runtime.getPlatformInfo = (...a) => { self.pings++; return orig(...a); };
			clearTimeout(keepAliveTimer); keepAliveTimer = null;
		})()`)
		done := request(t, b, p, summarize("w1", 3), "done", "error")
		require.Equal(t, "done", done.Type, "%s %s", done.Code, done.Message)
		loaded := workerEval[map[string]any](t, b, `startEngine().then(e => e.loaded())`)
		assert.Equal(t, "stories", loaded["id"], "warm after the task")
		require.Eventually(t, func() bool {
			return workerEval[bool](t, b, `startEngine().then(e => e.loaded()).then(m => m === null)`)
		}, 10*time.Second, 100*time.Millisecond, "unloaded once warmMs passed")
		pings := workerEval[int](t, b, `self.pings`)
		assert.GreaterOrEqual(t, pings, 5, "a heartbeat every keepAliveMs while warm")
		time.Sleep(600 * time.Millisecond)
		assert.Equal(t, pings, workerEval[int](t, b, `self.pings`), "no heartbeat once idle: the browser may stop the worker")
		// The next request loads the model again.
		cold := requestEnd(t, p, summarize("w2", 3))
		require.Equal(t, "done", cold.Type)
		assert.True(t, cold.Stats.Cold)
		t.Logf("reload after unload: %.0f ms", cold.Stats.LoadMs)
	})
}

func TestWorkerRefusesOutsiders(t *testing.T) {
	b := Start(t, Options{})
	srv := Serve(t, stringHandler(`<!doctype html><title>web page</title>`))
	web, err := b.OpenURL("web", srv.URL+"/")
	require.NoError(t, err)
	// No externally_connectable: a web page has no way to the worker.
	kind, err := EvalPage[string](b, web, `typeof (window.chrome && chrome.runtime && chrome.runtime.connect)`)
	require.NoError(t, err)
	assert.Equal(t, "undefined", kind)

	// The check itself: a Port whose sender is neither our page nor a tab's
	// content script is refused.
	ok, err := EvalWorker[[]bool](b, `[
		trusted({sender: {id: chrome.runtime.id, url: chrome.runtime.getURL('popup.html')}}),
		trusted({sender: {id: chrome.runtime.id, url: 'https://example.com/', tab: {id: 3}, frameId: 0}}),
		trusted({sender: {id: 'abcdefghijklmnopabcdefghijklmnop', url: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/x.html'}}),
		trusted({sender: {id: chrome.runtime.id, url: 'https://example.com/'}}),
	]`)
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true, false, false}, ok)
	manifest, err := EvalWorker[map[string]any](b, `chrome.runtime.getManifest()`)
	require.NoError(t, err)
	assert.NotContains(t, manifest, "externally_connectable")
	assert.False(t, strings.Contains(fmt.Sprint(manifest["permissions"]), "<all_urls>"))
}

// stringHandler serves body as HTML.
func stringHandler(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(body))
	})
}

// Without WebGPU (Chromium without --enable-unsafe-webgpu offers no adapter
// headless) a task fails with no-webgpu and status says why.
func TestWorkerWithoutWebGPU(t *testing.T) {
	b := Start(t, Options{Flags: map[string]any{"enable-unsafe-webgpu": false}})
	p := openClient(t, b)
	installStories(t, b, p)
	st, err := Eval[statusMsg](p.Ctx, 30*time.Second, `dp.request({type: 'status', id: 7}, ['status'])`)
	require.NoError(t, err)
	assert.Nil(t, st.WebGPU)
	assert.NotEmpty(t, st.Reason)
	end := requestEnd(t, p, `{type: 'task', id: 'n1', task: 'chat', input: {messages: [{role: 'user', content: 'Hi'}]}, options: {model: 'stories'}}`)
	assert.Equal(t, "error", end.Type)
	assert.Equal(t, "no-webgpu", end.Code, end.Message)
}
