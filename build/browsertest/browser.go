package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// defaultChrome is where Debian's chromium package puts the real binary
// (/usr/bin/chromium is a wrapper script that adds flags).
const defaultChrome = "/usr/lib/chromium/chromium"

type browser struct {
	exec    string
	mode    string
	console bool
	srv     *server
}

// run starts Chromium, loads the program and waits for its exit code. The
// browser is killed when run returns, whatever happened.
func (b *browser) run(ctx context.Context) (int, error) {
	profile, err := os.MkdirTemp("", "browsertest-profile-")
	if err != nil {
		return exitBrowser, err
	}
	defer os.RemoveAll(profile)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.UserDataDir(filepath.Join(profile, "user-data")),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("enable-unsafe-webgpu", true),
	)
	if exe := b.chromePath(); exe != "" {
		opts = append(opts, chromedp.ExecPath(exe))
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	if b.mode == "worker" {
		ext, err := writeExtension(filepath.Join(profile, "extension"), b.srv)
		if err != nil {
			return exitHarness, err
		}
		opts = append(opts,
			chromedp.Flag("disable-extensions", false),
			chromedp.Flag("load-extension", ext),
			chromedp.Flag("disable-extensions-except", ext),
		)
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()

	// The first Run starts the browser with a blank tab; it must not carry
	// a deadline of its own (that would end the browser), ctx already does.
	if err := chromedp.Do(tabCtx); err != nil {
		return browserFailure(ctx, fmt.Errorf("starting %s: %w", b.chromePath(), err))
	}
	crashed := make(chan struct{}, 1)
	if err := chromedp.Listen(tabCtx, func(ev any) {
		if _, ok := ev.(*inspector.EventTargetCrashed); ok {
			select {
			case crashed <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		return exitBrowser, err
	}
	go b.copyConsole(tabCtx)
	b.srv.setQuotaFunc(func(origin string, n int64) error {
		p := storage.OverrideQuotaForOriginParams{Origin: origin}
		if n >= 0 {
			q := float64(n)
			p.QuotaSize = &q
		}
		_, err := chromedp.Call(tabCtx, storage.OverrideQuotaForOrigin, p)
		return err
	})

	if b.mode == "page" {
		if err := chromedp.Do(tabCtx, chromedp.Navigate(b.srv.url+"/")); err != nil {
			return browserFailure(ctx, fmt.Errorf("loading the harness: %w", err))
		}
	}
	// In worker mode the extension's service worker starts on install.

	select {
	case code := <-b.srv.exit:
		return code, nil
	case <-crashed:
		return exitBrowser, errors.New("the page crashed")
	case <-allocCtx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return exitTimeout, errors.New("timed out; killed the browser")
		}
		if ctx.Err() != nil {
			return exitTimeout, fmt.Errorf("stopped: %w", ctx.Err())
		}
		return exitBrowser, errors.New("the browser exited")
	}
}

// browserFailure classifies an error of the browser's start or page load: once
// the run's own deadline has passed it is a timeout, whatever step it hit (a
// slow start on a loaded machine must not read as a broken browser).
func browserFailure(ctx context.Context, err error) (int, error) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return exitTimeout, fmt.Errorf("timed out: %w", err)
	}
	return exitBrowser, err
}

func (b *browser) chromePath() string {
	if b.exec != "" {
		return b.exec
	}
	if fileExists(defaultChrome) {
		return defaultChrome
	}
	return "" // chromedp searches the usual names
}

// copyConsole shows the page's console: warnings, errors and exceptions
// always (a JS failure outside Go is otherwise invisible), the rest on -console.
func (b *browser) copyConsole(ctx context.Context) {
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		switch m.Type {
		case chromedp.ConsoleWarning, chromedp.ConsoleError, chromedp.ConsoleException:
		default:
			if !b.console {
				continue
			}
		}
		fmt.Fprintf(os.Stderr, "browser %s: %s\n", m.Type, m.Text)
	}
}

// writeExtension builds a temporary MV3 extension whose classic service
// worker runs the program; it fetches the wasm and reports to our server.
func writeExtension(dir string, srv *server) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	manifest := `{
  "manifest_version": 3,
  "name": "browsertest",
  "version": "1.0",
  "background": {"service_worker": "background.js"},
  "host_permissions": ["http://127.0.0.1/*"],
  "content_security_policy": {"extension_pages": "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'"}
}
`
	execJS, err := os.ReadFile(srv.execJS)
	if err != nil {
		return "", err
	}
	harness, err := assets.ReadFile("assets/harness.js")
	if err != nil {
		return "", err
	}
	background, err := assets.ReadFile("assets/background.js")
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"manifest.json": []byte(manifest),
		"base.js":       fmt.Appendf(nil, "globalThis.__browsertestBase = %q;\n", srv.url),
		"wasm_exec.js":  execJS,
		"harness.js":    harness,
		"background.js": background,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}
