//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Helpers of the UI tests (ui_*_test.go): pages served to read, the tab
// ids that extension pages act on (?tab=ID, since headless tests cannot
// click the toolbar button), polling for what the user sees, screenshots.

// uiArticle is a readable article page.
func uiArticle(title, lang string, paragraphs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html lang=%q><head><meta charset="utf-8"><title>%s</title></head><body>`, lang, title)
	b.WriteString(`<nav><a href="/">Home</a> · <a href="/news">News</a> · <a href="/about">About</a></nav><main><article>`)
	fmt.Fprintf(&b, `<h1>%s</h1>`, title)
	for _, p := range paragraphs {
		fmt.Fprintf(&b, "<p>%s</p>\n", p)
	}
	b.WriteString(`</article></main><footer>Copyright footer text that is not the article.</footer></body></html>`)
	return b.String()
}

// uiLighthouse is the article most tests summarize.
var uiLighthouse = []string{
	"The old lighthouse on the northern cape was built in 1871 to guide fishing boats through the narrow channel between the cliffs and the sandbanks.",
	"For more than a century a keeper lived in the small stone house beside the tower, climbing the spiral stairs every evening to light the lamp and wind the clockwork that turned the lens.",
	"In 1964 the light was automated and the last keeper, Margaret Olsen, moved to the village, where she wrote a book about the storms she had watched from the lantern room.",
	"Today the tower is a museum. Visitors can climb to the gallery, see the original Fresnel lens and read the logbooks in which the keepers recorded the weather, passing ships and rescues.",
}

// uiServe serves pages by path; it returns the server's base URL.
func uiServe(t *testing.T, pages map[string]string) string {
	t.Helper()
	srv := Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	return srv.URL
}

// uiTabID returns the Chrome tab id of the tab showing url.
func uiTabID(t *testing.T, b *Browser, url string) int {
	t.Helper()
	u, _ := json.Marshal(url)
	var id int
	uiWaitUntil(t, 20*time.Second, func() bool {
		got, err := EvalWorker[int](b, fmt.Sprintf(`chrome.tabs.query({}).then(ts => { const t = ts.find(t => t.url === %s); return t ? t.id : 0; })`, u))
		require.NoError(t, err)
		id = got
		return id > 0
	}, "a tab showing %s", url)
	return id
}

// uiWaitUntil polls cond until it holds or timeout passes.
func uiWaitUntil(t *testing.T, timeout time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for "+what, append([]any{timeout}, args...)...)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// uiWait polls a boolean JS expression in page p.
func uiWait(t *testing.T, b *Browser, p *Page, timeout time.Duration, expr string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := EvalPage[bool](b, p, expr)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := EvalPage[string](b, p, `document.body.innerText`)
			t.Fatalf("timed out after %v waiting for %s in %s (last error: %v); the page shows:\n%s", timeout, expr, p.Name, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// uiReload reloads page p and waits until the new document's script is
// ready (window.dopplerReady).
func uiReload(t *testing.T, b *Browser, p *Page) {
	t.Helper()
	_, err := EvalPage[bool](b, p, `(window.__beforeReload = true, setTimeout(() => location.reload(), 0), true)`)
	require.NoError(t, err)
	uiWait(t, b, p, 30*time.Second, `!window.__beforeReload && window.dopplerReady === true`)
}

// uiText returns the visible text (innerText) of the element with id.
func uiText(t *testing.T, b *Browser, p *Page, id string) string {
	t.Helper()
	s, err := EvalPage[string](b, p, fmt.Sprintf(`document.getElementById(%q).innerText`, id))
	require.NoError(t, err)
	return s
}

// uiSquash collapses whitespace runs, as rendering does.
func uiSquash(s string) string { return strings.Join(strings.Fields(s), " ") }

// uiScreenshot saves a PNG of page p under e2e/artifacts/screens/NAME.png
// (the folder make demo points to).
func uiScreenshot(t *testing.T, p *Page, name string) {
	t.Helper()
	root, err := RepoRoot()
	require.NoError(t, err)
	dir := filepath.Join(root, "e2e", "artifacts", "screens")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	ctx, cancel := context.WithTimeout(p.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// uiViewport sizes page p like the real surface (popup 400 px wide, side
// panel 360 px).
func uiViewport(t *testing.T, p *Page, w, h int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
	defer cancel()
	_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: w, Height: h, DeviceScaleFactor: 1})
	require.NoError(t, err)
}

// uiDarkMode switches page p's prefers-color-scheme.
func uiDarkMode(t *testing.T, p *Page, dark bool) {
	t.Helper()
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
	defer cancel()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
	require.NoError(t, err)
}

// The model the generation tests run: stories260K, the one real trained
// model we have (a 512-token context, so long pages split naturally; no chat
// template, so tasks use the engine's plain-text prompts). The synthetic
// tiny models write mostly invalid UTF-8, which shows as nothing.
var (
	uiStoriesOnce sync.Once
	uiStoriesData []byte
	uiStoriesErr  error
)

// uiStoriesFile finds stories260K.gguf: $DOPPLER_TEST_MODELS, then
// ../shared/models (DESIGN.md "Test data lookup").
func uiStoriesFile() ([]byte, error) {
	var dirs []string
	if d := os.Getenv("DOPPLER_TEST_MODELS"); d != "" {
		dirs = append(dirs, d)
	}
	if root, err := RepoRoot(); err == nil {
		dirs = append(dirs, filepath.Join(root, "..", "shared", "models"))
	}
	for _, d := range dirs {
		if data, err := os.ReadFile(filepath.Join(d, "stories260K.gguf")); err == nil {
			return data, nil
		}
	}
	return nil, fmt.Errorf("stories260K.gguf not found in %v (set DOPPLER_TEST_MODELS)", dirs)
}

// uiStoriesBytes returns stories260K.gguf's bytes (read once).
func uiStoriesBytes(t *testing.T) []byte {
	t.Helper()
	uiStoriesOnce.Do(func() { uiStoriesData, uiStoriesErr = uiStoriesFile() })
	require.NoError(t, uiStoriesErr)
	return uiStoriesData
}

// uiWithContextLength returns a copy of a llama GGUF whose
// llama.context_length metadata (a uint32) says n: a model whose context is
// small enough that a short page needs splitting.
func uiWithContextLength(data []byte, n uint32) ([]byte, error) {
	key := []byte("llama.context_length")
	i := bytes.Index(data, key)
	if i < 0 {
		return nil, fmt.Errorf("no llama.context_length in the GGUF")
	}
	at := i + len(key)
	const ggufUint32 = 4
	if at+8 > len(data) || binary.LittleEndian.Uint32(data[at:]) != ggufUint32 {
		return nil, fmt.Errorf("llama.context_length is not a uint32")
	}
	out := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(out[at+4:], n)
	return out, nil
}

// uiInstallModel downloads stories260K into b's model store through the
// worker (the path of the UI's download) and returns its model id.
func uiInstallModel(t *testing.T, b *Browser) string {
	t.Helper()
	const id = "stories260k"
	uiInstallGGUF(t, b, uiStoriesBytes(t), id)
	return id
}

// uiInstallGGUF serves data and downloads it into b's store as model id.
func uiInstallGGUF(t *testing.T, b *Browser, data []byte, id string) {
	t.Helper()
	srv := Serve(t, newGGUFServer(data))
	// A worker target that just started may not have run background.js yet.
	uiWaitUntil(t, 30*time.Second, func() bool {
		ok, err := EvalWorker[bool](b, `typeof startEngine === 'function'`)
		return err == nil && ok
	}, "background.js in the service worker")
	m := workerEval[map[string]any](t, b, fmt.Sprintf(
		`startEngine().then(e => e.download({id: 'install-' + %q, url: %q, modelId: %q, name: %q}, null))`,
		id, srv.URL+"/"+id+".gguf", id, id))
	require.Equal(t, true, m["ready"], "installed model: %v", m)
}

// uiEngineTask runs a task request straight on the worker's engine (no UI,
// no Port): the reference the UI's visible text is compared with.
func uiEngineTask(t *testing.T, b *Browser, req json.RawMessage) string {
	t.Helper()
	res := workerEval[struct {
		Text string `json:"text"`
	}](t, b, fmt.Sprintf(`startEngine().then(e => e.task(%s, null, null))`, req))
	return res.Text
}
