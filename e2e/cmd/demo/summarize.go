package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/doppler-engine/doppler/e2e"
)

// summaryTimeout bounds one summary on SwiftShader WebGPU.
const summaryTimeout = 5 * time.Minute

// summary is what the popup showed.
type summary struct {
	title, text, model, stats string
	took, firstText           time.Duration
	screens                   []string
}

// popupView is the part of the popup the demo reads while it waits.
type popupView struct {
	Ready    bool   `json:"ready"`
	State    string `json:"state"`
	Title    string `json:"title"`
	PageErr  string `json:"pageError"`
	Error    string `json:"error"`
	Output   string `json:"output"`
	Progress string `json:"progress"`
	Notice   string `json:"notice"`
	Model    string `json:"model"`
	Stats    string `json:"stats"`
	CanGo    bool   `json:"canGo"`
}

const readPopup = `(() => { const t = (id) => document.getElementById(id).innerText.trim();
	return {ready: window.dopplerReady === true, state: document.body.dataset.state, title: t('page-title'),
		pageError: t('page-error'), error: t('error'), output: t('output'), progress: t('progress-text'),
		notice: t('notice'), model: t('model-name'), stats: t('stats'), canGo: !document.getElementById('summarize').disabled}; })()`

// summarize opens the article in a tab, opens the popup bound to that tab
// (popup.html?tab=ID: headless Chromium has no toolbar button to click),
// picks a short TL;DR and clicks "Summarize this page".
func (d *demo) summarize() (summary, error) {
	tab, err := d.b.OpenURL("article", d.base+articlePath)
	if err != nil {
		return summary{}, err
	}
	tabID, err := d.tabID(tab.URL)
	if err != nil {
		return summary{}, err
	}
	d.logf("sample page open in tab %d: %s", tabID, tab.URL)

	p, err := d.b.OpenPage(fmt.Sprintf("popup.html?tab=%d", tabID))
	if err != nil {
		return summary{}, err
	}
	d.viewport(p, 400, 600)
	v, err := d.waitPopup(p, 30*time.Second, func(v popupView) bool { return v.Ready })
	if err != nil {
		return summary{}, fmt.Errorf("the popup did not get ready: %w", err)
	}
	if v.PageErr != "" || v.Error != "" {
		return summary{}, fmt.Errorf("the popup reports a problem: %s", strings.TrimSpace(v.PageErr+" "+v.Error))
	}
	d.logf("popup open on %q (model shown: %q)", v.Title, v.Model)

	// The user's choices: a TL;DR of the short length (the smallest token
	// budget, so SwiftShader finishes in about a minute).
	if _, err := e2e.EvalPage[bool](d.b, p, `(() => {
		for (const [id, value] of [['sum-type', 'tldr'], ['sum-length', 'short'], ['sum-format', 'markdown']]) {
			const s = document.getElementById(id); s.value = value; s.dispatchEvent(new Event('change'));
		}
		return true; })()`); err != nil {
		return summary{}, err
	}
	if _, err := d.waitPopup(p, 30*time.Second, func(v popupView) bool { return v.CanGo }); err != nil {
		return summary{}, fmt.Errorf("the Summarize button stays disabled: %w", err)
	}
	began := time.Now()
	if _, err := e2e.EvalPage[bool](d.b, p, `(() => { const b = document.getElementById('summarize'); b.focus(); b.click(); return true; })()`); err != nil {
		return summary{}, err
	}
	d.logf("clicked %q (TL;DR, short, markdown)", "Summarize this page")

	var first time.Duration
	var lastLen int
	var lastProgress string
	var lastStream time.Time
	v, err = d.waitPopup(p, summaryTimeout, func(v popupView) bool {
		if v.Output != "" && first == 0 {
			first = time.Since(began)
			d.logf("  first text on screen after %.1f s", first.Seconds())
		}
		if v.Progress != "" && v.Progress != lastProgress {
			d.logf("  %s", v.Progress)
		}
		lastProgress = v.Progress
		if len(v.Output) != lastLen && time.Since(lastStream) > 3*time.Second {
			d.logf("  streaming: %d characters on screen so far", len(v.Output))
			lastLen, lastStream = len(v.Output), time.Now()
		}
		return v.State == "done" || v.State == "error" || v.State == "cancelled"
	})
	took := time.Since(began)
	if err != nil {
		return summary{}, fmt.Errorf("no summary within %v: %w", summaryTimeout, err)
	}
	shot := d.screenshot(p, "demo-popup", 400, 600)
	if v.State != "done" {
		return summary{}, fmt.Errorf("the popup shows an error: %s (screenshot %s)", v.Error, shot)
	}
	if v.Output == "" {
		return summary{}, errors.New("the summary finished empty")
	}
	if v.Notice != "" {
		d.logf("popup note: %s", v.Notice)
	}
	d.logf("summary done in %.1f s", took.Seconds())
	screens, _ := filepath.Glob(filepath.Join(d.screensDir(), "*.png"))
	return summary{title: v.Title, text: v.Output, model: v.Model, stats: v.Stats, took: took, firstText: first, screens: screens}, nil
}

// waitPopup polls the popup until cond holds or timeout passes.
func (d *demo) waitPopup(p *e2e.Page, timeout time.Duration, cond func(popupView) bool) (popupView, error) {
	deadline := time.Now().Add(timeout)
	var v popupView
	var err error
	for {
		var raw json.RawMessage
		if raw, err = e2e.EvalPage[json.RawMessage](d.b, p, readPopup); err == nil {
			if err = json.Unmarshal(raw, &v); err == nil && cond(v) {
				return v, nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("timed out after %v (state %q, error %q)", timeout, v.State, v.Error)
			}
			return v, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// tabID asks the worker for the id of the tab showing url.
func (d *demo) tabID(url string) (int, error) {
	u, _ := json.Marshal(url)
	deadline := time.Now().Add(30 * time.Second)
	for {
		id, err := e2e.EvalWorker[int](d.b, fmt.Sprintf(`chrome.tabs.query({}).then(ts => { const t = ts.find(t => t.url === %s); return t ? t.id : 0; })`, u))
		if err == nil && id > 0 {
			return id, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no tab shows %s (last error: %v)", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// viewport sizes page p like the real surface (the popup is 400 px wide).
func (d *demo) viewport(p *e2e.Page, w, h int64) {
	ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
	defer cancel()
	_, _ = chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: w, Height: h, DeviceScaleFactor: 1})
}

func (d *demo) screensDir() string { return filepath.Join(d.root, "e2e", "artifacts", "screens") }

// screenshot saves page p as screens/NAME.png and returns the path (""
// when it failed: a screenshot is a by-product, never the demo's failure).
func (d *demo) screenshot(p *e2e.Page, name string, w, h int64) string {
	d.viewport(p, w, h)
	ctx, cancel := context.WithTimeout(p.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.MkdirAll(d.screensDir(), 0o755)
	}
	path := filepath.Join(d.screensDir(), name+".png")
	if err == nil {
		err = os.WriteFile(path, png, 0o644)
	}
	if err != nil {
		d.logf("(screenshot %s not saved: %v)", name, err)
		return ""
	}
	return path
}
