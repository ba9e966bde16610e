package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Worker attaches to the extension's service worker (once; later calls
// return the same context) and returns its chromedp context. It polls the
// browser's targets until the worker shows up or ctx/OpTimeout ends.
func (b *Browser) Worker(ctx context.Context) (context.Context, error) {
	b.mu.Lock()
	w, closed := b.worker, b.closed
	b.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	if w != nil {
		return w, nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.OpTimeout)
	defer cancel()
	prefix := b.ExtensionURL("")
	for {
		targets, err := chromedp.Targets(b.Ctx)
		if err != nil {
			return nil, fmt.Errorf("e2e: listing targets: %w", err)
		}
		for _, t := range targets {
			if t.Type != "service_worker" || !strings.HasPrefix(t.URL, prefix) {
				continue
			}
			// Detach on cancel: cancelling the context must not stop the worker.
			wctx, _ := chromedp.NewContext(b.Ctx, chromedp.WithTargetID(t.TargetID), chromedp.WithDetachOnCancel())
			if err := chromedp.Do(wctx); err != nil {
				return nil, fmt.Errorf("e2e: attaching to the service worker %s: %w", t.URL, err)
			}
			b.collectConsole(wctx, "worker")
			b.mu.Lock()
			b.worker = wctx
			b.mu.Unlock()
			return wctx, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("e2e: no service worker of extension %s appeared (is the extension built and valid?): %w\n%s",
				b.ExtensionID, ctx.Err(), b.OutputTail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Page is a tab of the browser.
type Page struct {
	Name   string // the path or URL it was opened with
	URL    string
	Ctx    context.Context // chromedp context of the tab
	cancel context.CancelFunc
}

// OpenPage opens an extension page (e.g. "popup.html") in a new tab and
// waits for it to load.
func (b *Browser) OpenPage(path string) (*Page, error) {
	return b.OpenURL(path, b.ExtensionURL(path))
}

// OpenURL opens any URL (e.g. of Serve) in a new tab and waits for it to load.
func (b *Browser) OpenURL(name, url string) (*Page, error) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	ctx, cancel := chromedp.NewContext(b.Ctx)
	p := &Page{Name: name, URL: url, Ctx: ctx, cancel: cancel}
	// Start the tab and its console collection before navigating, so the
	// page's first console lines are kept.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("e2e: opening a tab: %w", err)
	}
	b.collectConsole(ctx, name)
	b.mu.Lock()
	b.pages = append(b.pages, p)
	b.mu.Unlock()
	opCtx, opCancel := b.opContext(ctx)
	defer opCancel()
	if err := chromedp.Do(opCtx, chromedp.Navigate(url)); err != nil {
		return p, fmt.Errorf("e2e: loading %s: %w", url, err)
	}
	return p, nil
}

// Close closes the tab.
func (p *Page) Close() { p.cancel() }

// Eval evaluates a JavaScript expression in a chromedp context (a page or
// the worker), awaits it when it is a promise, and decodes its JSON value
// into T. It gives up after timeout.
func Eval[T any](ctx context.Context, timeout time.Duration, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		var zero T
		return zero, fmt.Errorf("e2e: evaluating %q: %w", shorten(expr), err)
	}
	return v, nil
}

// EvalWorker evaluates expr in the extension's service worker (attaching
// first when needed).
func EvalWorker[T any](b *Browser, expr string) (T, error) {
	w, err := b.Worker(context.Background())
	if err != nil {
		var zero T
		return zero, err
	}
	return Eval[T](w, b.opts.OpTimeout, expr)
}

// EvalPage evaluates expr in page p.
func EvalPage[T any](b *Browser, p *Page, expr string) (T, error) {
	return Eval[T](p.Ctx, b.opts.OpTimeout, expr)
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
