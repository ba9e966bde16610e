//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// UI tests that generate text with stories260K on the real
// worker and engine (SwiftShader WebGPU). Each compares what the user sees
// with the engine's own greedy answer to the same request, replayed
// straight on dopplerEngine.task (no UI, no Port).

// uiShortArticle fits stories260K's 512-token context with the summary
// prompt's wording (uiLighthouse in full does not).
var uiShortArticle = uiArticle("The lighthouse", "en", uiLighthouse[:2]...)

// uiGenTimeout bounds one generation on SwiftShader.
const uiGenTimeout = 3 * time.Minute

// uiSettings merges settings into chrome.storage.local (what the options
// page writes), from extension page p.
func uiSettings(t *testing.T, b *Browser, p *Page, settings map[string]any) {
	t.Helper()
	js, _ := json.Marshal(settings)
	_, err := EvalPage[bool](b, p, fmt.Sprintf(`chrome.storage.local.get('settings').then(({settings}) =>
		chrome.storage.local.set({settings: {...(settings || {}), ...%s}})).then(() => true)`, js))
	require.NoError(t, err)
}

// uiVisible renders text in page p the way the UI renders model output
// (format markdown or plain-text) and returns what a user would read.
func uiVisible(t *testing.T, b *Browser, p *Page, text, format string) string {
	t.Helper()
	in, _ := json.Marshal(text)
	s, err := EvalPage[string](b, p, fmt.Sprintf(`import('./ui/markdown.js').then((md) => {
		const box = document.createElement('div');
		box.style.cssText = 'position:absolute;left:-10000px;width:400px';
		document.body.append(box);
		md.render(box, %s, %q);
		const s = box.innerText; box.remove(); return s; })`, in, format))
	require.NoError(t, err)
	return uiSquash(s)
}

// uiReplay runs the UI's last request (JS expression reqExpr in page p) on
// the engine directly and returns the engine's text.
func uiReplay(t *testing.T, b *Browser, p *Page, reqExpr string) string {
	t.Helper()
	return uiReplayOn(t, b, p, reqExpr, "")
}

// uiReplayOn is replay on a given engine backend ("" = the request's own;
// "cpu" = the pure-Go reference in the worker, the oracle the WebGPU path
// is tested against, much faster than SwiftShader for long tasks).
func uiReplayOn(t *testing.T, b *Browser, p *Page, reqExpr, backend string) string {
	t.Helper()
	req, err := EvalPage[json.RawMessage](b, p, fmt.Sprintf(`(() => { const r = %s, backend = %q;
		const options = backend ? {...r.options, backend} : r.options;
		return {id: 'replay-' + Date.now(), task: r.task, input: r.input, options}; })()`, reqExpr, backend))
	require.NoError(t, err)
	return uiEngineTask(t, b, req)
}

// uiClick clicks the element with id the way a keyboard user would activate
// it (focus, then click()).
func uiClick(t *testing.T, b *Browser, p *Page, id string) {
	t.Helper()
	_, err := EvalPage[bool](b, p, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.focus(); e.click(); return true; })()`, id))
	require.NoError(t, err)
}

// uiOpenArticle serves an article and returns its tab id.
func uiOpenArticle(t *testing.T, b *Browser, html string) int {
	t.Helper()
	base := uiServe(t, map[string]string{"/article.html": html})
	page, err := b.OpenURL("article", base+"/article.html")
	require.NoError(t, err)
	return uiTabID(t, b, page.URL)
}

func TestPopupSummarizesPage(t *testing.T) {
	b := Start(t, Options{})
	model := uiInstallModel(t, b)
	tab := uiOpenArticle(t, b, uiShortArticle)
	p := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
	uiViewport(t, p, 400, 600)
	uiWait(t, b, p, 30*time.Second, `window.dopplerReady === true`)
	assert.Equal(t, "The lighthouse", uiText(t, b, p, "page-title"))
	uiSettings(t, b, p, map[string]any{"maxTokens": 12})

	for _, format := range []string{"markdown"} {
		t.Run(format, func(t *testing.T) {
			_, err := EvalPage[bool](b, p, fmt.Sprintf(`(() => { const s = document.getElementById('sum-type'); s.value = 'tldr';
				document.getElementById('sum-format').value = %q; return true; })()`, format))
			require.NoError(t, err)
			uiClick(t, b, p, "summarize")
			uiWait(t, b, p, uiGenTimeout, `document.body.dataset.state === 'done' || document.body.dataset.state === 'error'`)
			require.Empty(t, uiText(t, b, p, "error"))
			shown := uiSquash(uiText(t, b, p, "output"))
			require.NotEmpty(t, shown, "the summary is on screen")

			want := uiReplay(t, b, p, `dopplerPopup.lastRequest`)
			assert.Equal(t, uiVisible(t, b, p, want, format), shown, "the popup shows the engine's greedy answer")
			req, err := EvalPage[map[string]any](b, p, `dopplerPopup.lastRequest`)
			require.NoError(t, err)
			opts := req["options"].(map[string]any)
			assert.Equal(t, "tldr", opts["type"])
			assert.Equal(t, format, opts["format"])
			assert.Contains(t, req["input"].(map[string]any)["text"], uiLighthouse[1])
			assert.Equal(t, model, uiText(t, b, p, "model-name"), "the popup says which model ran")
			dis, err := EvalPage[bool](b, p, `document.getElementById('copy').disabled`)
			require.NoError(t, err)
			assert.False(t, dis, "copy is offered")
		})
	}
	uiClick(t, b, p, "copy")
	uiWait(t, b, p, 10*time.Second, `document.getElementById('copy-status').textContent !== ''`)
	uiScreenshot(t, p, "popup-summary")

	// The popup closes when the user clicks elsewhere; reopened on the same
	// page it shows the summary again (the worker kept it).
	shown := uiSquash(uiText(t, b, p, "output"))
	p.Close()
	again := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
	uiWait(t, b, again, 30*time.Second, `window.dopplerReady === true && document.body.dataset.state === 'done'`)
	assert.Equal(t, shown, uiSquash(uiText(t, b, again, "output")))
	assert.NotEmpty(t, uiText(t, b, again, "stats"))
}

// uiSelect selects text in page pg: in the element matching sel, the
// first occurrence of what (an input/textarea's value or a text node).
func uiSelect(t *testing.T, b *Browser, pg *Page, sel, what string) {
	t.Helper()
	_, err := EvalPage[bool](b, pg, fmt.Sprintf(`(() => {
		const e = document.querySelector(%q), what = %q;
		if (e.tagName === 'TEXTAREA' || e.tagName === 'INPUT') {
			const i = e.value.indexOf(what); e.focus(); e.setSelectionRange(i, i + what.length); return true;
		}
		const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
		for (let n; (n = walker.nextNode());) {
			const i = n.nodeValue.indexOf(what);
			if (i < 0) continue;
			const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + what.length);
			const s = getSelection(); s.removeAllRanges(); s.addRange(r); return true;
		}
		throw new Error('text not found');
	})()`, sel, what))
	require.NoError(t, err)
}

// uiMenuClick calls the context menu's click handler as Chrome does.
func uiMenuClick(t *testing.T, b *Browser, tab int, item, selection string, editable bool) {
	t.Helper()
	sel, _ := json.Marshal(selection)
	_, err := EvalWorker[map[string]any](b, fmt.Sprintf(`chrome.tabs.get(%d).then((tab) => dopplerMenus.onClicked(
		{menuItemId: %q, selectionText: %s, editable: %t, frameId: 0, pageUrl: tab.url}, tab))`, tab, item, sel, editable))
	require.NoError(t, err)
}

func TestContextMenuSummarizeSelection(t *testing.T) {
	b := Start(t, Options{})
	uiInstallModel(t, b)
	base := uiServe(t, map[string]string{"/article.html": uiShortArticle})
	pg, err := b.OpenURL("article", base+"/article.html")
	require.NoError(t, err)
	tab := uiTabID(t, b, pg.URL)
	selection := uiLighthouse[1]
	uiSelect(t, b, pg, "article", selection)

	// The menu item is registered with Chrome...
	uiWaitUntil(t, 20*time.Second, func() bool {
		ok, err := EvalWorker[bool](b, `chrome.contextMenus.update('doppler-summarize-selection', {}).then(() => true, () => false)`)
		return err == nil && ok
	}, "the Summarize selection menu item")
	// ...and a click leaves the request for the side panel, which runs it.
	panel := b.MustOpenPage(t, fmt.Sprintf("sidepanel.html?tab=%d", tab))
	uiViewport(t, panel, 360, 700)
	uiWait(t, b, panel, 30*time.Second, `window.dopplerReady === true`)
	uiSettings(t, b, panel, map[string]any{"maxTokens": 12, "summaryFormat": "markdown"})
	uiMenuClick(t, b, tab, "doppler-summarize-selection", selection, false)

	uiWait(t, b, panel, uiGenTimeout, `['done', 'error'].includes(document.getElementById('action').dataset.state)`)
	assert.Empty(t, uiText(t, b, panel, "action-error"))
	assert.Equal(t, "Summarize selection", uiText(t, b, panel, "action-title"))
	src, err := EvalPage[string](b, panel, `document.getElementById('action-source').textContent`)
	require.NoError(t, err)
	assert.Equal(t, selection, src, "the panel summarizes the selected text")
	shown := uiSquash(uiText(t, b, panel, "action-output"))
	require.NotEmpty(t, shown)
	want := uiReplay(t, b, panel, `dopplerPanel.act.lastRequest`)
	assert.Equal(t, uiVisible(t, b, panel, want, "markdown"), shown)
	hidden, err := EvalPage[bool](b, panel, `document.getElementById('action-replace').hidden`)
	require.NoError(t, err)
	assert.True(t, hidden, "no replace for a summary of page text")
	pending, err := EvalPage[bool](b, panel, `chrome.storage.session.get('pendingAction').then((g) => !g.pendingAction)`)
	require.NoError(t, err)
	assert.True(t, pending, "the request was taken once")
	uiScreenshot(t, panel, "sidepanel-summary")
}

func TestRewriteSelectionReplaces(t *testing.T) {
	b := Start(t, Options{})
	uiInstallModel(t, b)
	const before = "Dear team, "
	const selected = "the report is late becuase we was waiting for the numbers"
	const after = ". Regards."
	page := fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mail</title></head><body>
		<label for="mail">Message</label><textarea id="mail" rows="4" cols="60">%s%s%s</textarea>
		<div id="editor" contenteditable="true"><p>Notes: %s</p></div></body></html>`, before, selected, after, selected)
	base := uiServe(t, map[string]string{"/mail.html": page})
	pg, err := b.OpenURL("mail", base+"/mail.html")
	require.NoError(t, err)
	tab := uiTabID(t, b, pg.URL)
	panel := b.MustOpenPage(t, fmt.Sprintf("sidepanel.html?tab=%d", tab))
	uiWait(t, b, panel, 30*time.Second, `window.dopplerReady === true`)
	uiSettings(t, b, panel, map[string]any{"maxTokens": 12})

	// run runs a rewrite menu item; with replay it checks the answer
	// against the engine's own (once per test is enough: it is slow on
	// SwiftShader).
	run := func(t *testing.T, item string, withReplay bool) string {
		// Forget the last run's state, so the wait below sees this one's.
		_, err := EvalPage[bool](b, panel, `(document.getElementById('action').dataset.state = 'waiting', true)`)
		require.NoError(t, err)
		uiMenuClick(t, b, tab, item, selected, true)
		uiWait(t, b, panel, uiGenTimeout, `['done', 'error'].includes(document.getElementById('action').dataset.state)`)
		require.Empty(t, uiText(t, b, panel, "action-error"))
		out, err := EvalPage[string](b, panel, `dopplerPanel.act.view.text`)
		require.NoError(t, err)
		require.NotEmpty(t, out)
		assert.Equal(t, uiVisible(t, b, panel, out, "plain-text"), uiSquash(uiText(t, b, panel, "action-output")))
		if withReplay {
			want := uiReplay(t, b, panel, `dopplerPanel.act.lastRequest`)
			assert.Equal(t, want, out, "the panel streamed the engine's greedy rewrite")
		}
		return out
	}

	t.Run("textarea", func(t *testing.T) {
		uiSelect(t, b, pg, "#mail", selected)
		out := run(t, "doppler-rewrite-grammar", true)
		req, err := EvalPage[map[string]any](b, panel, `dopplerPanel.act.lastRequest`)
		require.NoError(t, err)
		assert.Equal(t, "rewrite", req["task"])
		assert.Equal(t, "grammar", req["options"].(map[string]any)["action"])
		hidden, err := EvalPage[bool](b, panel, `document.getElementById('action-replace').hidden`)
		require.NoError(t, err)
		require.False(t, hidden, "replace is offered for an editable selection")
		uiClick(t, b, panel, "action-replace")
		uiWait(t, b, panel, 10*time.Second, `document.getElementById('action').dataset.replaced === 'true'`)
		value, err := EvalPage[string](b, pg, `document.getElementById('mail').value`)
		require.NoError(t, err)
		assert.Equal(t, before+out+after, value, "the selection was replaced, the rest kept")
		assert.Contains(t, uiText(t, b, panel, "action-status"), "Replaced")
	})
	t.Run("contenteditable", func(t *testing.T) {
		uiSelect(t, b, pg, "#editor", selected)
		out := run(t, "doppler-rewrite-formal", false)
		req, err := EvalPage[map[string]any](b, panel, `dopplerPanel.act.lastRequest`)
		require.NoError(t, err)
		assert.Equal(t, "formal", req["options"].(map[string]any)["action"])
		uiClick(t, b, panel, "action-replace")
		uiWait(t, b, panel, 10*time.Second, `document.getElementById('action').dataset.replaced === 'true'`)
		html, err := EvalPage[string](b, pg, `document.getElementById('editor').innerText`)
		require.NoError(t, err)
		assert.Equal(t, uiSquash("Notes: "+out), uiSquash(html))
	})
}

// uiSendChat types a message in the side panel's input with real key
// events (CDP Input.dispatchKeyEvent) and sends it with the Enter key.
func uiSendChat(t *testing.T, b *Browser, panel *Page, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(panel.Ctx, 30*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.SendKeys(chromedp.ID("chat-input"), msg+kb.Enter))
	require.NoError(t, err)
}

func uiChatTurns(t *testing.T, b *Browser, panel *Page) []map[string]any {
	t.Helper()
	v, err := EvalPage[[]map[string]any](b, panel, `dopplerPanel.chat.messages`)
	require.NoError(t, err)
	return v
}

func TestSidePanelChatTwoTurnsAndStop(t *testing.T) {
	b := Start(t, Options{})
	uiInstallModel(t, b)
	tab := uiOpenArticle(t, b, uiShortArticle)
	panel := b.MustOpenPage(t, fmt.Sprintf("sidepanel.html?tab=%d", tab))
	uiViewport(t, panel, 360, 700)
	uiWait(t, b, panel, 30*time.Second, `window.dopplerReady === true`)
	uiSettings(t, b, panel, map[string]any{"maxTokens": 16})

	// answer waits for the answer of turn and checks it against want (the
	// engine's own answer to the same request when want is empty).
	answer := func(t *testing.T, turn int, want string) {
		uiWait(t, b, panel, uiGenTimeout, `['done', 'error'].includes(document.body.dataset.chat)`)
		require.Empty(t, uiText(t, b, panel, "chat-error"))
		msgs := uiChatTurns(t, b, panel)
		last := msgs[len(msgs)-1]
		require.Equal(t, "assistant", last["role"])
		if want == "" {
			want = uiReplay(t, b, panel, `dopplerPanel.chat.lastRequest`)
		}
		assert.Equal(t, want, last["content"], "turn %d is the engine's greedy answer", turn)
		items, err := EvalPage[[]string](b, panel, `[...document.querySelectorAll('#chat-log > li.assistant .body')].map((e) => e.innerText)`)
		require.NoError(t, err)
		require.Len(t, items, turn)
		assert.Equal(t, uiVisible(t, b, panel, want, "markdown"), uiSquash(items[turn-1]))
	}

	// Turn 1, with the page as context.
	uiClick(t, b, panel, "use-page")
	uiSendChat(t, b, panel, "When was the lighthouse built?")
	answer(t, 1, "")
	req, err := EvalPage[map[string]any](b, panel, `dopplerPanel.chat.lastRequest`)
	require.NoError(t, err)
	input := req["input"].(map[string]any)
	require.NotNil(t, input["page"], "the page goes with the message")
	assert.Contains(t, input["page"].(map[string]any)["text"], uiLighthouse[0])
	assert.Len(t, input["messages"], 1)

	// Turn 2: the first exchange is sent as history, in order.
	uiClick(t, b, panel, "use-page")
	uiSendChat(t, b, panel, "Who was the last keeper?")
	answer(t, 2, "")
	req, err = EvalPage[map[string]any](b, panel, `dopplerPanel.chat.lastRequest`)
	require.NoError(t, err)
	input = req["input"].(map[string]any)
	assert.Nil(t, input["page"])
	msgs := input["messages"].([]any)
	require.Len(t, msgs, 3)
	roles := []string{}
	for _, m := range msgs {
		roles = append(roles, m.(map[string]any)["role"].(string))
	}
	assert.Equal(t, []string{"user", "assistant", "user"}, roles)
	uiScreenshot(t, panel, "sidepanel-chat")

	// The history survives the panel being closed and opened again
	// (chrome.storage.session, per window).
	uiReload(t, b, panel)
	uiWait(t, b, panel, 30*time.Second, `window.dopplerReady === true && document.querySelectorAll('#chat-log > li').length === 4`)

	// Regenerate replaces the last answer with the same greedy answer.
	before := uiChatTurns(t, b, panel)
	uiClick(t, b, panel, "chat-regenerate")
	uiWait(t, b, panel, 5*time.Second, `document.body.dataset.chat === 'running'`)
	answer(t, 2, before[len(before)-1]["content"].(string))
	assert.Equal(t, before, uiChatTurns(t, b, panel), "greedy regenerate gives the same answer, in place of the old one")

	// Stop: a long answer stops at once, keeping what was written.
	uiSettings(t, b, panel, map[string]any{"maxTokens": 400})
	uiSendChat(t, b, panel, "Tell me everything about it.")
	uiWait(t, b, panel, uiGenTimeout, `document.body.dataset.chat === 'running' &&
		(document.querySelector('#chat-log > li:last-child .body[aria-busy="true"]')?.innerText || '').length > 0`)
	uiClick(t, b, panel, "chat-stop")
	uiWait(t, b, panel, 30*time.Second, `document.body.dataset.chat === 'cancelled'`)
	assert.Contains(t, uiText(t, b, panel, "chat-status"), "Stopped")
	msgs2 := uiChatTurns(t, b, panel)
	last := msgs2[len(msgs2)-1]
	assert.Equal(t, true, last["stopped"])
	assert.Less(t, len(strings.Fields(last["content"].(string))), 400)

	// Clear empties the conversation, on screen and in storage.
	uiClick(t, b, panel, "chat-clear")
	uiWait(t, b, panel, 5*time.Second, `document.querySelectorAll('#chat-log > li').length === 0`)
	left, err := EvalPage[int](b, panel, `chrome.storage.session.get('chat:' + dopplerPanel.windowId).then((g) => g['chat:' + dopplerPanel.windowId].messages.length)`)
	require.NoError(t, err)
	assert.Equal(t, 0, left)
}

func TestCancelStopsGeneration(t *testing.T) {
	b := Start(t, Options{})
	uiInstallModel(t, b)
	tab := uiOpenArticle(t, b, uiShortArticle)
	p := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
	uiWait(t, b, p, 30*time.Second, `window.dopplerReady === true`)
	uiSettings(t, b, p, map[string]any{"maxTokens": 400})
	uiClick(t, b, p, "summarize")
	uiWait(t, b, p, uiGenTimeout, `(dopplerPopup.view.text || '').length > 0`)
	start := time.Now()
	uiClick(t, b, p, "stop")
	uiWait(t, b, p, 30*time.Second, `document.body.dataset.state !== 'running'`)
	t.Logf("stopped %v after the click", time.Since(start))
	state, err := EvalPage[string](b, p, `document.body.dataset.state`)
	require.NoError(t, err)
	assert.Equal(t, "cancelled", state)
	assert.Equal(t, "Stopped.", uiText(t, b, p, "error"))
	partial, err := EvalPage[string](b, p, `dopplerPopup.view.text`)
	require.NoError(t, err)
	assert.NotEmpty(t, partial, "what was written stays")
	// No more text arrives after the stop.
	time.Sleep(2 * time.Second)
	again, err := EvalPage[string](b, p, `dopplerPopup.view.text`)
	require.NoError(t, err)
	assert.Equal(t, partial, again)
	// The engine is free for the next request right away.
	uiSettings(t, b, p, map[string]any{"maxTokens": 8})
	uiClick(t, b, p, "summarize")
	uiWait(t, b, p, uiGenTimeout, `document.body.dataset.state === 'done'`)
}

func TestServiceWorkerKilledMidGeneration(t *testing.T) {
	b := Start(t, Options{})
	uiInstallModel(t, b)
	tab := uiOpenArticle(t, b, uiShortArticle)
	p := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
	uiWait(t, b, p, 30*time.Second, `window.dopplerReady === true`)
	uiSettings(t, b, p, map[string]any{"maxTokens": 400})
	uiClick(t, b, p, "summarize")
	uiWait(t, b, p, uiGenTimeout, `(dopplerPopup.view.text || '').length > 0`)

	// Kill the worker the way the browser does.
	_, err := chromedp.Call(p.Ctx, serviceworker.Enable, cdp.Empty{})
	require.NoError(t, err)
	_, err = chromedp.Call(p.Ctx, serviceworker.StopAllWorkers, cdp.Empty{})
	require.NoError(t, err)
	uiWait(t, b, p, 30*time.Second, `document.body.dataset.state === 'error'`)
	code, err := EvalPage[string](b, p, `document.body.dataset.errorCode`)
	require.NoError(t, err)
	assert.Equal(t, "worker-restarted", code)
	assert.Contains(t, uiText(t, b, p, "error"), "The engine stopped while working")
	assert.Contains(t, uiText(t, b, p, "error"), "Try again")
	uiScreenshot(t, p, "popup-worker-restarted")

	// The next request wakes a new worker and works.
	uiSettings(t, b, p, map[string]any{"maxTokens": 8})
	uiClick(t, b, p, "summarize")
	uiWait(t, b, p, uiGenTimeout, `['done', 'error'].includes(document.body.dataset.state)`)
	assert.Empty(t, uiText(t, b, p, "error"))
	assert.NotEmpty(t, uiSquash(uiText(t, b, p, "output")))
}

func TestLongPageChunkedSummary(t *testing.T) {
	b := Start(t, Options{})
	// stories260K with a 512-token context: the whole lighthouse article
	// (~700 prompt tokens) does not fit, so the engine summarizes it in
	// parts (map-reduce) and says so. (At the real 2048 tokens a long
	// enough page takes minutes on SwiftShader.)
	data, err := uiWithContextLength(uiStoriesBytes(t), 512)
	require.NoError(t, err)
	uiInstallGGUF(t, b, data, "stories260k-ctx512")
	tab := uiOpenArticle(t, b, uiArticle("The history of the lighthouse", "en", uiLighthouse...))
	p := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
	uiWait(t, b, p, 30*time.Second, `window.dopplerReady === true`)
	uiSettings(t, b, p, map[string]any{"maxTokens": 12})
	uiClick(t, b, p, "summarize")
	uiWait(t, b, p, 2*uiGenTimeout, `['done', 'error'].includes(document.body.dataset.state)`)
	require.Empty(t, uiText(t, b, p, "error"))
	note := uiText(t, b, p, "notice")
	assert.Regexp(t, `(?i)part`, note, "the popup says the page was summarized in parts")
	assert.Regexp(t, `\d+ parts`, uiText(t, b, p, "stats"))
	want := uiReplayOn(t, b, p, `dopplerPopup.lastRequest`, "cpu")
	assert.Equal(t, uiVisible(t, b, p, want, "markdown"), uiSquash(uiText(t, b, p, "output")))
	uiScreenshot(t, p, "popup-long-page")
}

func TestContextOverflowIsExplained(t *testing.T) {
	b := Start(t, Options{})
	uiInstallModel(t, b)
	tab := uiOpenArticle(t, b, uiShortArticle)
	panel := b.MustOpenPage(t, fmt.Sprintf("sidepanel.html?tab=%d", tab))
	uiWait(t, b, panel, 30*time.Second, `window.dopplerReady === true`)
	uiSettings(t, b, panel, map[string]any{"maxTokens": 8})
	// A conversation longer than the context: the oldest turns are dropped
	// and the panel says so.
	var hist []map[string]string
	for i := 0; i < 40; i++ {
		hist = append(hist,
			map[string]string{"role": "user", "content": fmt.Sprintf("Question %d: %s", i, strings.Repeat(uiLighthouse[i%4]+" ", 3))},
			map[string]string{"role": "assistant", "content": fmt.Sprintf("Answer %d: %s", i, uiLighthouse[(i+1)%4])})
	}
	js, _ := json.Marshal(hist)
	_, err := EvalPage[bool](b, panel, fmt.Sprintf(`chrome.storage.session.set({['chat:' + dopplerPanel.windowId]: {messages: %s}}).then(() => true)`, js))
	require.NoError(t, err)
	uiReload(t, b, panel)
	uiWait(t, b, panel, 30*time.Second, `window.dopplerReady === true && document.querySelectorAll('#chat-log > li').length === 80`)
	uiSendChat(t, b, panel, "And now?")
	uiWait(t, b, panel, uiGenTimeout, `['done', 'error'].includes(document.body.dataset.chat)`)
	require.Empty(t, uiText(t, b, panel, "chat-error"))
	notes, err := EvalPage[[]string](b, panel, `[...document.querySelectorAll('#chat-log > li.note')].map((e) => e.innerText)`)
	require.NoError(t, err)
	require.NotEmpty(t, notes, "a note explains what was left out")
	assert.Regexp(t, `(?i)(left out|dropped|earlier|older)`, strings.Join(notes, " "))
	uiScreenshot(t, panel, "sidepanel-context-note")

	// A request that cannot fit at all is an error the user can act on.
	p := b.MustOpenPage(t, fmt.Sprintf("popup.html?tab=%d", tab))
	uiWait(t, b, p, 30*time.Second, `window.dopplerReady === true`)
	msg, err := EvalPage[string](b, p, `import('./ui/common.js').then((c) => c.errorText({code: 'context-overflow'}))`)
	require.NoError(t, err)
	assert.Contains(t, msg, "longer than the model’s context")
	assert.Contains(t, msg, "context size")
}

func TestOptionsImportsAndManagesModels(t *testing.T) {
	b := Start(t, Options{})
	file := filepath.Join(t.TempDir(), "stories260K.gguf")
	require.NoError(t, os.WriteFile(file, uiStoriesBytes(t), 0o644))

	p := b.MustOpenPage(t, "options.html")
	uiViewport(t, p, 900, 1200)
	uiWait(t, b, p, 60*time.Second, `document.body.dataset.models === '0'`)
	assert.Contains(t, uiText(t, b, p, "installed-empty"), "No model is installed yet")
	catalog, err := EvalPage[int](b, p, `document.querySelectorAll('#catalog-body tr').length`)
	require.NoError(t, err)
	assert.Greater(t, catalog, 0, "the catalog is listed")

	// Import through the file input (what the picker and a drop both do).
	ctx, cancel := context.WithTimeout(p.Ctx, 30*time.Second)
	defer cancel()
	_, err = chromedp.Run(ctx, chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{file}))
	require.NoError(t, err)
	uiWait(t, b, p, 2*time.Minute, `document.querySelector('#jobs li')?.dataset.state !== undefined && document.body.dataset.models === '1'`)
	job := uiText(t, b, p, "jobs")
	assert.Contains(t, job, "stories260K.gguf is ready")
	row := uiText(t, b, p, "installed-body")
	assert.Contains(t, row, "Ready")
	checked, err := EvalPage[bool](b, p, `document.querySelector('#installed-body input[type=radio]').checked`)
	require.NoError(t, err)
	assert.True(t, checked, "the only model is the default")
	assert.Regexp(t, `Models use [0-9.]+ (KB|MB)`, uiText(t, b, p, "storage-used"))
	uiScreenshot(t, p, "options-model-installed")

	// Settings are saved in chrome.storage.local.
	_, err = EvalPage[bool](b, p, `(() => { const e = document.getElementById('set-temperature'); e.value = '0.7';
		e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`)
	require.NoError(t, err)
	uiWait(t, b, p, 5*time.Second, `document.getElementById('settings-status').textContent === 'Saved.'`)
	temp, err := EvalPage[float64](b, p, `chrome.storage.local.get('settings').then((g) => g.settings.temperature)`)
	require.NoError(t, err)
	assert.Equal(t, 0.7, temp)

	// Delete (confirm() answered yes).
	_, err = EvalPage[bool](b, p, `(window.confirm = () => true, document.querySelector('#installed-body button.danger').click(), true)`)
	require.NoError(t, err)
	uiWait(t, b, p, 30*time.Second, `document.body.dataset.models === '0'`)
}
