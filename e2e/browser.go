package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// Options configure Launch and Start. The zero value loads dist/extension.
type Options struct {
	// ExtensionDir is the built extension (default ROOT/dist/extension).
	ExtensionDir string
	// HostPermissions are added to the e2e copy's manifest. nil means
	// http://127.0.0.1/* (pages of Serve); an empty slice adds none.
	HostPermissions []string
	// Chrome is the browser binary: $DOPPLER_CHROME, else Debian's
	// /usr/lib/chromium/chromium (the /usr/bin wrapper adds its own flags).
	Chrome string
	// Flags are extra Chromium flags (value true for a bare switch).
	Flags map[string]any
	// OpTimeout limits each Eval, OpenPage and Worker call (default 60s).
	OpTimeout time.Duration
	// Timeout limits the browser's whole life (default 10m): a hung test
	// still ends and Chromium is killed.
	Timeout time.Duration
}

// Browser is a running Chromium with the extension loaded.
type Browser struct {
	// ExtensionID is the loaded extension's ID (fixed by the manifest key).
	ExtensionID string
	// ExtensionDir is the e2e copy of the extension that Chromium loaded.
	ExtensionDir string
	// Ctx is the chromedp context of the browser's first tab; contexts made
	// from it share the browser.
	Ctx context.Context

	opts      Options
	tmp       string
	cancelAll context.CancelFunc
	output    *syncBuffer

	mu      sync.Mutex
	console []string
	pages   []*Page
	worker  context.Context
	closed  bool
}

// DefaultChrome is Debian's Chromium binary.
const DefaultChrome = "/usr/lib/chromium/chromium"

// Launch starts headless Chromium with a fresh profile and the extension.
// Close it when done (Start does that for tests).
func Launch(opts Options) (b *Browser, err error) {
	if opts.OpTimeout == 0 {
		opts.OpTimeout = 60 * time.Second
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Minute
	}
	if opts.HostPermissions == nil {
		opts.HostPermissions = []string{"http://127.0.0.1/*"}
	}
	if opts.Chrome == "" {
		opts.Chrome = os.Getenv("DOPPLER_CHROME")
	}
	if opts.Chrome == "" {
		opts.Chrome = DefaultChrome
	}
	if _, err := os.Stat(opts.Chrome); err != nil {
		return nil, fmt.Errorf("e2e: no Chromium at %s (run make setup, or set DOPPLER_CHROME): %w", opts.Chrome, err)
	}
	if opts.ExtensionDir == "" {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		opts.ExtensionDir = filepath.Join(root, "dist", "extension")
	}

	tmp, err := os.MkdirTemp("", "doppler-e2e-")
	if err != nil {
		return nil, err
	}
	b = &Browser{opts: opts, tmp: tmp, output: &syncBuffer{}}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	b.ExtensionDir = filepath.Join(tmp, "extension")
	if b.ExtensionID, err = prepareExtension(opts.ExtensionDir, b.ExtensionDir, opts.HostPermissions); err != nil {
		return nil, err
	}

	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(opts.Chrome),
		chromedp.UserDataDir(filepath.Join(tmp, "profile")),
		chromedp.Flag("headless", "new"),
		// The defaults disable extensions: this browser exists to run one.
		chromedp.Flag("disable-extensions", false),
		chromedp.Flag("load-extension", b.ExtensionDir),
		chromedp.Flag("disable-extensions-except", b.ExtensionDir),
		// Without it requestAdapter() returns null in headless Chromium.
		chromedp.Flag("enable-unsafe-webgpu", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("enable-logging", "stderr"),
		chromedp.CombinedOutput(b.output),
	)
	if os.Geteuid() == 0 {
		flags = append(flags, chromedp.NoSandbox)
	}
	for k, v := range opts.Flags {
		flags = append(flags, chromedp.Flag(k, v))
	}

	life, cancelLife := context.WithTimeout(context.Background(), opts.Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, flags...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	b.Ctx = browserCtx
	b.cancelAll = func() {
		cancelBrowser()
		cancelAlloc()
		cancelLife()
	}
	// The first Run starts Chromium; its context must carry no deadline of
	// its own (the browser lives as long as that context).
	if err := chromedp.Do(browserCtx); err != nil {
		return nil, fmt.Errorf("e2e: starting Chromium: %w\n%s", err, b.OutputTail(40))
	}
	return b, nil
}

// Close kills Chromium and removes its profile and the extension copy.
func (b *Browser) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	pages := b.pages
	b.mu.Unlock()
	for _, p := range pages {
		p.cancel()
	}
	if b.cancelAll != nil {
		b.cancelAll()
	}
	os.RemoveAll(b.tmp)
}

// Output returns what Chromium printed (its log, with --enable-logging=stderr).
func (b *Browser) Output() string { return b.output.String() }

// OutputTail returns the last n lines of Output.
func (b *Browser) OutputTail(n int) string {
	lines := strings.Split(strings.TrimRight(b.Output(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Console returns the console lines of the worker and of the pages so far,
// each prefixed by its source.
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// collectConsole copies the console messages of a target into b.console.
// Call it after the context's first Run.
func (b *Browser) collectConsole(ctx context.Context, source string) {
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("[%s] %s", source, m.String()))
			b.mu.Unlock()
		}
	}()
}

// opContext limits one operation on ctx (a chromedp context that has run).
func (b *Browser) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.opts.OpTimeout)
}

// ExtensionURL returns the chrome-extension:// URL of a file of the extension.
func (b *Browser) ExtensionURL(path string) string {
	return "chrome-extension://" + b.ExtensionID + "/" + strings.TrimPrefix(path, "/")
}

// errClosed is returned by calls on a closed Browser.
var errClosed = errors.New("e2e: browser closed")

// syncBuffer is a goroutine-safe bytes buffer for Chromium's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.buf)
}
