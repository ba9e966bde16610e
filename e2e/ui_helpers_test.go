//go:build e2e

package e2e

import (
	"context"
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

// articleHTML is a readable article page.
func articleHTML(title, lang string, paragraphs ...string) string {
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

// lighthouseParagraphs is the article most tests summarize.
var lighthouseParagraphs = []string{
	"The old lighthouse on the northern cape was built in 1871 to guide fishing boats through the narrow channel between the cliffs and the sandbanks.",
	"For more than a century a keeper lived in the small stone house beside the tower, climbing the spiral stairs every evening to light the lamp and wind the clockwork that turned the lens.",
	"In 1964 the light was automated and the last keeper, Margaret Olsen, moved to the village, where she wrote a book about the storms she had watched from the lantern room.",
	"Today the tower is a museum. Visitors can climb to the gallery, see the original Fresnel lens and read the logbooks in which the keepers recorded the weather, passing ships and rescues.",
}

// serveHTML serves pages by path; it returns the server's base URL.
func serveHTML(t *testing.T, pages map[string]string) string {
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

// tabID returns the Chrome tab id of the tab showing url.
func tabID(t *testing.T, b *Browser, url string) int {
	t.Helper()
	u, _ := json.Marshal(url)
	var id int
	waitUntil(t, 20*time.Second, func() bool {
		got, err := EvalWorker[int](b, fmt.Sprintf(`chrome.tabs.query({}).then(ts => { const t = ts.find(t => t.url === %s); return t ? t.id : 0; })`, u))
		require.NoError(t, err)
		id = got
		return id > 0
	}, "a tab showing %s", url)
	return id
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for "+what, append([]any{timeout}, args...)...)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitPage polls a boolean JS expression in page p.
func waitPage(t *testing.T, b *Browser, p *Page, timeout time.Duration, expr string) {
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

// text returns the visible text (innerText) of the element with id.
func text(t *testing.T, b *Browser, p *Page, id string) string {
	t.Helper()
	s, err := EvalPage[string](b, p, fmt.Sprintf(`document.getElementById(%q).innerText`, id))
	require.NoError(t, err)
	return s
}

// normalizeSpace collapses whitespace runs, as rendering does.
func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// screenshot saves a PNG of page p under e2e/artifacts/screens/NAME.png
// (the folder make demo points to).
func screenshot(t *testing.T, p *Page, name string) {
	t.Helper()
	root, err := RepoRoot()
	require.NoError(t, err)
	dir := filepath.Join(root, "e2e", "artifacts", "screens")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	ctx, cancel := context.WithTimeout(p.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// setViewport sizes page p like the real surface (popup 400 px wide, side
// panel 360 px).
func setViewport(t *testing.T, p *Page, w, h int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, emulation.SetDeviceMetricsOverride(w, h, 1, false)))
}

// darkMode switches page p's prefers-color-scheme.
func darkMode(t *testing.T, p *Page, dark bool) {
	t.Helper()
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}})))
}

// The tiny model the generation tests run: synthetic Gemma 3 (chat
// template included), served once per test binary and installed into each
// browser's store through the worker.
var (
	tinyOnce sync.Once
	tinyData []byte
)

// installTiny downloads the tiny model into b's model store (through the
// same worker API as the UI's download) and returns its model id.
func installTiny(t *testing.T, b *Browser) string {
	t.Helper()
	tinyOnce.Do(func() { _, tinyData = synthGemma(t) })
	require.NotEmpty(t, tinyData)
	srv := Serve(t, newGGUFServer(tinyData))
	const id = "tiny"
	m := workerEval[map[string]any](t, b, fmt.Sprintf(
		`startEngine().then(e => e.download({id: 'install-tiny', url: %q, modelId: %q, name: 'Tiny test model'}, null))`,
		srv.URL+"/tiny-gemma3.gguf", id))
	require.Equal(t, true, m["ready"], "installed model: %v", m)
	return id
}

// engineTask runs a task request straight on the worker's engine (no UI,
// no Port): the reference the UI's visible text is compared with.
func engineTask(t *testing.T, b *Browser, req json.RawMessage) string {
	t.Helper()
	res := workerEval[struct {
		Text string `json:"text"`
	}](t, b, fmt.Sprintf(`startEngine().then(e => e.task(%s, null, null))`, req))
	return res.Text
}
