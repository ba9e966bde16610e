//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// UI tests that need no model: rendering and sanitizing, accessibility,
// the right-click menu's registration, messages for pages that cannot be
// read or browsers without WebGPU, and the walls between web pages and the
// engine.

// uiRendered is what the markdown renderer built for one input, as the page
// measured it.
type uiRendered struct {
	Text  string         `json:"text"`
	Tags  map[string]int `json:"tags"`
	Hrefs []string       `json:"hrefs"`
	Rels  []string       `json:"rels"`
	Pwned bool           `json:"pwned"`
}

// uiMeasureJS renders an input with the given format into a
// detached element and reports its text, tags and links.
const uiMeasureJS = `(async (input, format) => {
  const md = await import('./ui/markdown.js');
  const box = document.createElement('div');
  document.body.append(box);
  md.render(box, input, format);
  await new Promise((r) => setTimeout(r, 300)); // time for an onerror to fire
  const tags = {};
  for (const e of box.querySelectorAll('*')) tags[e.tagName.toLowerCase()] = (tags[e.tagName.toLowerCase()] || 0) + 1;
  const links = [...box.querySelectorAll('a')];
  const out = { text: box.innerText, tags, hrefs: links.map((a) => a.getAttribute('href')), rels: links.map((a) => a.rel), pwned: !!window.__pwned };
  box.remove();
  return out;
})(%s, %q)`

func TestModelOutputIsSanitized(t *testing.T) {
	b := Start(t, Options{})
	p := b.MustOpenPage(t, "popup.html")
	uiWait(t, b, p, 30*time.Second, `window.dopplerReady === true`)

	const evil = `Hello <img src=x onerror="window.__pwned=1"> world`
	cases := []struct {
		name      string
		in        string
		format    string
		wantText  []string // substrings of the visible text
		wantTags  map[string]int
		wantHrefs []string
	}{
		{name: "img onerror is text", in: evil, format: "markdown", wantText: []string{`<img src=x onerror="window.__pwned=1">`}, wantTags: map[string]int{"p": 1, "img": 0}},
		{name: "script is text", in: "<script>window.__pwned=2</script>", format: "markdown", wantText: []string{"<script>window.__pwned=2</script>"}, wantTags: map[string]int{"script": 0}},
		{name: "iframe in plain text", in: `<iframe src="javascript:window.__pwned=5"></iframe>`, format: "plain-text", wantText: []string{"<iframe"}, wantTags: map[string]int{"iframe": 0, "p": 1}},
		{name: "javascript link is dropped", in: "[click me](javascript:window.__pwned=3)", format: "markdown", wantText: []string{"click me"}, wantTags: map[string]int{"a": 0}},
		{name: "data link is dropped", in: "[x](data:text/html,hi)", format: "markdown", wantText: []string{"x"}, wantTags: map[string]int{"a": 0}},
		{name: "relative link is dropped", in: "[opts](options.html)", format: "markdown", wantText: []string{"opts"}, wantTags: map[string]int{"a": 0}},
		{name: "https link kept", in: "See [the site](https://example.org/a?b=1) now", format: "markdown", wantText: []string{"See the site now"}, wantTags: map[string]int{"a": 1}, wantHrefs: []string{"https://example.org/a?b=1"}},
		{name: "bare url", in: "Read https://example.org/x.", format: "markdown", wantText: []string{"Read https://example.org/x."}, wantTags: map[string]int{"a": 1}, wantHrefs: []string{"https://example.org/x"}},
		{
			name: "structure", in: "# Title\n\nSome **bold** and *italic* and `x<y`.\n\n- one\n- two\n\n1. first\n2. second\n\n> quoted",
			format:   "markdown",
			wantText: []string{"Title", "Some bold and italic and x<y.", "one", "second", "quoted"},
			wantTags: map[string]int{"h3": 1, "strong": 1, "em": 1, "code": 1, "ul": 1, "ol": 1, "li": 4, "blockquote": 1, "h1": 0},
		},
		{name: "fenced code keeps html as text", in: "```html\n<b onclick=x>not bold</b>\n```", format: "markdown", wantText: []string{"<b onclick=x>not bold</b>"}, wantTags: map[string]int{"pre": 1, "b": 0}},
		{name: "snake_case is not emphasis", in: "call my_func_name now", format: "markdown", wantText: []string{"call my_func_name now"}, wantTags: map[string]int{"em": 0}},
		{name: "plain text keeps markdown marks", in: "**not bold**\nline two", format: "plain-text", wantText: []string{"**not bold**", "line two"}, wantTags: map[string]int{"strong": 0, "br": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, _ := json.Marshal(tc.in)
			r, err := EvalPage[uiRendered](b, p, fmt.Sprintf(uiMeasureJS, in, tc.format))
			require.NoError(t, err)
			for _, w := range tc.wantText {
				assert.Contains(t, uiSquash(r.Text), w)
			}
			for tag, n := range tc.wantTags {
				assert.Equal(t, n, r.Tags[tag], "<%s> elements; got %v", tag, r.Tags)
			}
			if tc.wantHrefs != nil {
				assert.Equal(t, tc.wantHrefs, r.Hrefs)
				for _, rel := range r.Rels {
					assert.Equal(t, "noopener noreferrer", rel)
				}
			}
			assert.False(t, r.Pwned, "no script of the output ran")
		})
	}

	// The popup's own output region, fed as tokens stream in (the path a
	// worker's token messages take), in pieces that split the tag.
	t.Run("popup stream", func(t *testing.T) {
		in, _ := json.Marshal(evil + "\n\n**done**")
		_, err := EvalPage[bool](b, p, fmt.Sprintf(`(async (s) => {
			const v = dopplerPopup.view; v.start('markdown');
			for (let i = 0; i < s.length; i += 3) v.append(s.slice(i, i + 3));
			await new Promise((r) => setTimeout(r, 120));
			v.finish(); await new Promise((r) => setTimeout(r, 300)); return true; })(%s)`, in))
		require.NoError(t, err)
		out := uiText(t, b, p, "output")
		assert.Contains(t, out, `<img src=x onerror="window.__pwned=1">`)
		n, err := EvalPage[int](b, p, `document.querySelectorAll('#output img').length + (window.__pwned ? 100 : 0)`)
		require.NoError(t, err)
		assert.Equal(t, 0, n)
		strong, err := EvalPage[string](b, p, `document.querySelector('#output strong').textContent`)
		require.NoError(t, err)
		assert.Equal(t, "done", strong)
	})

	// A chat history (kept in chrome.storage.session) holding hostile
	// output renders as text when the side panel opens.
	t.Run("side panel history", func(t *testing.T) {
		sp := b.MustOpenPage(t, "sidepanel.html")
		uiWait(t, b, sp, 30*time.Second, `window.dopplerReady === true`)
		hist, _ := json.Marshal([]map[string]string{{"role": "user", "content": "hi"}, {"role": "assistant", "content": evil + " [x](javascript:window.__pwned=4)"}})
		_, err := EvalPage[bool](b, sp, fmt.Sprintf(`chrome.storage.session.set({['chat:' + dopplerPanel.windowId]: {messages: %s}}).then(() => true)`, hist))
		require.NoError(t, err)
		uiReload(t, b, sp)
		uiWait(t, b, sp, 30*time.Second, `window.dopplerReady === true && document.querySelectorAll('#chat-log > li').length === 2`)
		log := uiText(t, b, sp, "chat-log")
		assert.Contains(t, log, `onerror="window.__pwned=1"`)
		n, err := EvalPage[int](b, sp, `document.querySelectorAll('#chat-log img, #chat-log a').length + (window.__pwned ? 100 : 0)`)
		require.NoError(t, err)
		assert.Equal(t, 0, n)
	})
}

// uiAxeViolation is one rule axe-core found broken.
type uiAxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// uiRunAxe injects npm axe-core (build/node_modules) into page p and runs it.
func uiRunAxe(t *testing.T, b *Browser, p *Page) []uiAxeViolation {
	t.Helper()
	root, err := RepoRoot()
	require.NoError(t, err)
	src, err := os.ReadFile(filepath.Join(root, "build", "node_modules", "axe-core", "axe.min.js"))
	require.NoError(t, err, "npm axe-core (make setup)")
	_, err = EvalPage[bool](b, p, string(src)+"\n;typeof axe === 'object'")
	require.NoError(t, err)
	v, err := Eval[[]uiAxeViolation](p.Ctx, 90*time.Second, `axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations.map((v) => ({
		id: v.id, impact: v.impact || '', help: v.help,
		nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' ')),
	})))`)
	require.NoError(t, err)
	return v
}

func TestAccessibility(t *testing.T) {
	b := Start(t, Options{})
	base := uiServe(t, map[string]string{"/article.html": uiArticle("The lighthouse", "en", uiLighthouse...)})
	article, err := b.OpenURL("article", base+"/article.html")
	require.NoError(t, err)
	tab := uiTabID(t, b, article.URL)

	popup := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
	uiViewport(t, popup, 400, 600)
	uiWait(t, b, popup, 30*time.Second, `window.dopplerReady === true`)
	// No model is installed: the first-run flow offers the catalog.
	uiWait(t, b, popup, 30*time.Second, `!document.getElementById('setup').hidden && document.querySelectorAll('#setup-model option').length > 0`)
	assert.Equal(t, "no-model", func() string {
		s, err := EvalPage[string](b, popup, `document.body.dataset.problem`)
		require.NoError(t, err)
		return s
	}())
	assert.Contains(t, uiText(t, b, popup, "setup"), "Install a model first")
	// Give the popup something to show in every region it has.
	_, err = EvalPage[bool](b, popup, `(() => { const v = dopplerPopup.view; v.start('markdown');
		v.append('## Key points\n\n- The lighthouse dates from **1871**.\n- It is a museum; see [the site](https://example.org).'); v.finish();
		document.getElementById('notice').textContent = 'The page was long, so it was summarized in 3 parts.'; return true; })()`)
	require.NoError(t, err)

	panel := b.MustOpenPage(t, fmt.Sprintf("sidepanel.html?tab=%d", tab))
	uiViewport(t, panel, 360, 700)
	uiWait(t, b, panel, 30*time.Second, `window.dopplerReady === true`)
	hist, _ := json.Marshal([]map[string]string{
		{"role": "user", "content": "When was it built?"},
		{"role": "note", "content": "2 earlier messages were left out to fit the model's context."},
		{"role": "assistant", "content": "It was built in **1871**.\n\n- keeper: Margaret Olsen"},
	})
	_, err = EvalPage[bool](b, panel, fmt.Sprintf(`chrome.storage.session.set({['chat:' + dopplerPanel.windowId]: {messages: %s}}).then(() => true)`, hist))
	require.NoError(t, err)
	uiReload(t, b, panel)
	uiWait(t, b, panel, 30*time.Second, `window.dopplerReady === true && document.querySelectorAll('#chat-log > li').length === 3`)

	options := b.MustOpenPage(t, "options.html")
	uiViewport(t, options, 900, 1200)
	uiWait(t, b, options, 60*time.Second, `document.body.dataset.models !== undefined`)

	pages := []struct {
		name string
		p    *Page
	}{{"popup", popup}, {"sidepanel", panel}, {"options", options}}
	for _, pg := range pages {
		for _, dark := range []bool{false, true} {
			name := pg.name
			if dark {
				name += "-dark"
			}
			t.Run(name, func(t *testing.T) {
				uiDarkMode(t, pg.p, dark)
				violations := uiRunAxe(t, b, pg.p)
				for _, v := range violations {
					t.Errorf("axe %s (%s): %s\n  %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
				}
				uiScreenshot(t, pg.p, name)
			})
		}
	}

	// Keyboard: every control of the popup is reachable with Tab, in order,
	// and has an accessible name.
	names, err := EvalPage[[]string](b, popup, `[...document.querySelectorAll('button:not([disabled]):not([hidden]), select, a[href], input, textarea')]
		.filter((e) => e.offsetParent !== null && e.tabIndex >= 0)
		.map((e) => (e.labels && e.labels[0] ? e.labels[0].innerText : '') || e.getAttribute('aria-label') || e.innerText)`)
	require.NoError(t, err)
	for _, n := range names {
		assert.NotEmpty(t, strings.TrimSpace(n), "a focusable control without a name: %v", names)
	}
}

func TestContextMenuRegistration(t *testing.T) {
	b := Start(t, Options{})
	items, err := EvalWorker[[]struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}](b, `dopplerMenus.ITEMS.map(({id, title}) => ({id, title}))`)
	require.NoError(t, err)
	var titles []string
	for _, it := range items {
		titles = append(titles, it.Title)
	}
	assert.Equal(t, []string{"Summarize selection", "Rewrite: more formal", "Rewrite: more casual", "Rewrite: shorter", "Rewrite: longer", "Rewrite: fix grammar", "Summarize this page"}, titles)
	// chrome.contextMenus.update fails for an id that was never created:
	// every item (and the parent) is registered with Chrome.
	for _, id := range append([]string{"doppler"}, func() []string {
		var ids []string
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return ids
	}()...) {
		var ok bool
		uiWaitUntil(t, 20*time.Second, func() bool {
			ok, err = EvalWorker[bool](b, fmt.Sprintf(`chrome.contextMenus.update(%q, {}).then(() => true, () => false)`, id))
			return err == nil && ok
		}, "menu item %s registered", id)
	}
	bad, err := EvalWorker[bool](b, `chrome.contextMenus.update('no-such-item', {}).then(() => true, () => false)`)
	require.NoError(t, err)
	assert.False(t, bad, "update of an unknown id fails, so the check above can fail")
}

func TestPageTextExtraction(t *testing.T) {
	b := Start(t, Options{})
	base := uiServe(t, map[string]string{
		"/article.html": uiArticle("The lighthouse", "fr", uiLighthouse...),
		// Too short for Readability: the body text is used.
		"/short.html": `<!doctype html><html><head><title>Short</title></head><body><div>Just one line of text.</div><script>var hidden = "script text";</script></body></html>`,
	})
	article, err := b.OpenURL("article", base+"/article.html")
	require.NoError(t, err)
	short, err := b.OpenURL("short", base+"/short.html")
	require.NoError(t, err)

	type pageText struct {
		Title, URL, Language, Text, Source string
	}
	read := func(tab int) pageText {
		p := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
		uiWait(t, b, p, 30*time.Second, `window.dopplerReady === true`)
		got, err := EvalPage[pageText](b, p, `dopplerPopup.page`)
		require.NoError(t, err)
		assert.Equal(t, got.Title, uiText(t, b, p, "page-title"))
		return got
	}
	a := read(uiTabID(t, b, article.URL))
	assert.Equal(t, "readability", a.Source)
	assert.Equal(t, "fr", a.Language)
	assert.Equal(t, "The lighthouse", a.Title)
	assert.Contains(t, a.Text, uiLighthouse[0])
	assert.Contains(t, a.Text, uiLighthouse[3])
	assert.Contains(t, a.Text, "\n\n", "paragraphs stay apart")
	assert.NotContains(t, a.Text, "Copyright footer", "the footer is not the article")
	assert.NotContains(t, a.Text, "About", "the navigation is not the article")

	s := read(uiTabID(t, b, short.URL))
	assert.Equal(t, "Just one line of text.", s.Text)
	assert.NotContains(t, s.Text, "script text")

	// Pages Chrome forbids: a clear message, and no summarize button.
	for _, url := range []string{"chrome://version/", "https://chromewebstore.google.com/detail/x", "http://127.0.0.1:1/report.pdf"} {
		t.Run(url, func(t *testing.T) {
			if strings.HasPrefix(url, "chrome://") {
				// Extensions do not see a chrome:// tab's URL: make it from the worker.
				tab, err := EvalWorker[int](b, fmt.Sprintf(`chrome.tabs.create({url: %q, active: false}).then((t) => t.id)`, url))
				require.NoError(t, err)
				time.Sleep(500 * time.Millisecond)
				p := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
				uiWait(t, b, p, 30*time.Second, `window.dopplerReady === true`)
				assert.Contains(t, uiText(t, b, p, "page-error"), "Chrome does not let extensions read its own pages")
				dis, err := EvalPage[bool](b, p, `document.getElementById('summarize').disabled`)
				require.NoError(t, err)
				assert.True(t, dis)
				return
			}
			// Pages we cannot open offline: the decision from the URL alone.
			p := b.MustOpenPage(t, "popup.html?tab=0")
			msg, err := EvalPage[string](b, p, fmt.Sprintf(`import('./ui/common.js').then((c) => c.unreadableReason(%q))`, url))
			require.NoError(t, err)
			assert.NotEmpty(t, msg)
		})
	}
}

// Sampled requests carry a fresh seed each (Regenerate then gives another
// answer); greedy ones none.
func TestSampledRequestsCarryFreshSeeds(t *testing.T) {
	b := Start(t, Options{})
	p := b.MustOpenPage(t, "popup.html?tab=0")
	opts, err := EvalPage[[]map[string]any](b, p, `import('./ui/common.js').then((c) =>
		[c.generationOptions({temperature: 0.8}), c.generationOptions({temperature: '0.8'}), c.generationOptions({temperature: 0})])`)
	require.NoError(t, err)
	require.Len(t, opts, 3)
	for _, o := range opts[:2] {
		seed, ok := o["seed"].(float64)
		require.True(t, ok, "a sampled request has a seed: %v", o)
		assert.Equal(t, math.Trunc(seed), seed)
		assert.GreaterOrEqual(t, seed, 0.0)
	}
	assert.NotEqual(t, opts[0]["seed"], opts[1]["seed"], "a fresh seed each request")
	assert.NotContains(t, opts[2], "seed", "greedy requests need none")
}

func TestWebGPUUnavailableMessage(t *testing.T) {
	b := Start(t, Options{Flags: map[string]any{"enable-unsafe-webgpu": false}})
	base := uiServe(t, map[string]string{"/article.html": uiArticle("The lighthouse", "en", uiLighthouse...)})
	article, err := b.OpenURL("article", base+"/article.html")
	require.NoError(t, err)
	tab := uiTabID(t, b, article.URL)

	popup := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
	uiWait(t, b, popup, 60*time.Second, `window.dopplerReady === true`)
	errText := uiText(t, b, popup, "error")
	assert.Contains(t, errText, "WebGPU is not available in this browser")
	assert.Contains(t, errText, "chrome://gpu")
	dis, err := EvalPage[bool](b, popup, `document.getElementById('summarize').disabled`)
	require.NoError(t, err)
	assert.True(t, dis, "no summarize button without WebGPU")
	assert.Contains(t, uiText(t, b, popup, "status"), "unavailable")
	uiScreenshot(t, popup, "popup-no-webgpu")

	// The side panel says so too, and offers no Send button that could
	// only fail.
	panel := b.MustOpenPage(t, fmt.Sprintf("sidepanel.html?tab=%d", tab))
	uiWait(t, b, panel, 60*time.Second, `window.dopplerReady === true && document.body.dataset.problem === 'no-webgpu'`)
	assert.Contains(t, uiText(t, b, panel, "engine-error"), "WebGPU is not available")
	dis, err = EvalPage[bool](b, panel, `document.getElementById('chat-send').disabled`)
	require.NoError(t, err)
	assert.True(t, dis, "no chat without WebGPU")
	uiScreenshot(t, panel, "sidepanel-no-webgpu")
}

func TestRejectsMessagesFromPages(t *testing.T) {
	b := Start(t, Options{})
	// A hostile page: it tries every way to reach the extension.
	hostile := uiArticle("Hostile", "en", uiLighthouse...) + fmt.Sprintf(`<script>
window.__attempts = (async () => {
  const out = {};
  out.runtime = typeof chrome !== 'undefined' && !!chrome.runtime && typeof chrome.runtime.connect === 'function';
  try {
    const port = chrome.runtime.connect(%q, {name: 'doppler'});
    out.connect = await new Promise((resolve) => {
      port.onMessage.addListener((m) => resolve('reply:' + m.type));
      port.onDisconnect.addListener(() => resolve('disconnected'));
      port.postMessage({type: 'task', id: 'evil-1', task: 'summarize', input: {text: 'x'}});
      setTimeout(() => resolve('no reply'), 3000);
    });
  } catch (e) { out.connect = 'threw'; }
  try {
    out.sendMessage = await chrome.runtime.sendMessage(%q, {type: 'task', id: 'evil-2', task: 'chat'});
  } catch (e) { out.sendMessage = 'threw'; }
  return out;
})();
</script>`, b.ExtensionID, b.ExtensionID)
	base := uiServe(t, map[string]string{"/hostile.html": hostile})
	page, err := b.OpenURL("hostile", base+"/hostile.html")
	require.NoError(t, err)
	attempts, err := EvalPage[map[string]any](b, page, `window.__attempts`)
	require.NoError(t, err)
	t.Logf("the page's attempts: %v", attempts)
	for _, k := range []string{"connect", "sendMessage"} {
		assert.NotContains(t, fmt.Sprint(attempts[k]), "reply", "a web page got an answer through %s", k)
	}
	if attempts["runtime"] == true {
		assert.Contains(t, []any{"threw", "disconnected"}, attempts["connect"])
	}

	// Read the page the way the popup does (the content script runs in it),
	// then let the page post protocol messages at it.
	tab := uiTabID(t, b, page.URL)
	popup := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
	uiWait(t, b, popup, 30*time.Second, `window.dopplerReady === true && !!dopplerPopup.page`)
	_, err = EvalPage[bool](b, page, `(() => {
		for (const m of [{type: 'task', id: 'evil-3', task: 'summarize', input: {text: 'x'}}, {type: 'download', id: 'evil-4', url: 'https://example.org/x.gguf'}, {type: 'delete', modelId: 'tiny'}]) {
			window.postMessage(m, '*');
			document.dispatchEvent(new CustomEvent('doppler', {detail: m}));
		}
		return true; })()`)
	require.NoError(t, err)
	time.Sleep(time.Second)
	// The worker ran none of them: it knows no job with those ids.
	client := openClient(t, b)
	jobs, err := EvalPage[map[string]any](b, client, `dp.request({type: 'jobs', id: 'jobs-1'}, ['jobs'])`)
	require.NoError(t, err)
	list, _ := jobs["jobs"].([]any)
	for _, j := range list {
		id := fmt.Sprint(j.(map[string]any)["id"])
		assert.False(t, strings.HasPrefix(id, "evil"), "the worker ran a page's request %s", id)
	}
	// The content script added no listener: it left nothing but its result.
	listening, err := EvalPage[bool](b, page, `typeof window.Readability !== 'undefined'`)
	require.NoError(t, err)
	assert.False(t, listening, "the content script's world is isolated from the page")
}
