package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Start launches a Browser for test t and closes it when the test ends. When
// the test failed it first saves screenshots of the open pages, the console
// lines and Chromium's log under e2e/artifacts/TEST/, and logs their tails.
func Start(t testing.TB, opts Options) *Browser {
	t.Helper()
	b, err := Launch(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b.saveArtifacts(t)
		}
		b.Close()
	})
	return b
}

// MustOpenPage is OpenPage that fails the test on error.
func (b *Browser) MustOpenPage(t testing.TB, path string) *Page {
	t.Helper()
	p, err := b.OpenPage(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ArtifactsDir is where failing tests leave screenshots and logs.
func ArtifactsDir(t testing.TB) string {
	root, err := RepoRoot()
	if err != nil {
		root = "."
	}
	return filepath.Join(root, "e2e", "artifacts", unsafeName.ReplaceAllString(t.Name(), "_"))
}

func (b *Browser) saveArtifacts(t testing.TB) {
	dir := ArtifactsDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("e2e: artifacts: %v", err)
		return
	}
	b.mu.Lock()
	pages := append([]*Page(nil), b.pages...)
	b.mu.Unlock()
	for i, p := range pages {
		ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			continue
		}
		name := fmt.Sprintf("%02d-%s.png", i, unsafeName.ReplaceAllString(p.Name, "_"))
		_ = os.WriteFile(filepath.Join(dir, name), png, 0o644)
	}
	console := strings.Join(b.Console(), "\n")
	_ = os.WriteFile(filepath.Join(dir, "console.log"), []byte(console+"\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "chromium.log"), []byte(b.Output()), 0o644)
	lines := b.Console()
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	t.Logf("e2e: console (last %d lines):\n%s", len(lines), strings.Join(lines, "\n"))
	t.Logf("e2e: Chromium log (tail):\n%s", b.OutputTail(30))
	t.Logf("e2e: screenshots and logs saved in %s", dir)
}

// Serve starts an HTTP server on 127.0.0.1 (a secure context, allowed by
// the e2e copy's host permissions) for the test, closed when it ends.
func Serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}
