// Command demo is `make demo`: the product's main job, end to end. It
// starts headless Chromium with the built extension (dist/extension) and a
// fresh profile, serves a sample article on 127.0.0.1, installs a model
// into the extension's model store over the worker's "doppler" Port, opens
// the popup bound to the article's tab, clicks "Summarize this page" as a
// user would, waits for the streamed summary and prints it with the model,
// the timings and where the screenshots are.
//
// The model is $DOPPLER_MODEL (a .gguf path or http(s) URL), else the test
// model stories260K (DESIGN.md "Test data lookup"), else the catalog's
// default download. stories260K has no chat template, so its "summary" is
// TinyStories-style text: the point is the path, not the prose.
package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/doppler-engine/doppler/e2e"
	"github.com/doppler-engine/doppler/storage/store"
)

func main() { os.Exit(run()) }

// demo carries what the steps share.
type demo struct {
	start time.Time
	root  string
	b     *e2e.Browser
	base  string // the 127.0.0.1 server's URL
}

// logf prints a progress line stamped with the time since the start.
func (d *demo) logf(format string, a ...any) {
	fmt.Printf("[%5.1fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, a...))
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "demo:", err)
	return 1
}

func run() int {
	d := &demo{start: time.Now()}
	root, err := e2e.RepoRoot()
	if err != nil {
		return fail(err)
	}
	d.root = root

	src, err := resolveModel(os.Getenv("DOPPLER_MODEL"), func() (string, error) { return findTestModel(root) }, store.Catalog)
	if err != nil {
		return fail(err)
	}
	d.logf("model: %s", src.describe())
	if src.Path == "" {
		// Fail fast and clearly offline, before Chromium and the worker's
		// retries.
		if err := reachable(src.URL, 15*time.Second); err != nil {
			return fail(unreachableError(src, err))
		}
	}

	srv, err := serve(sampleHandler(src))
	if err != nil {
		return fail(err)
	}
	defer srv.Close()
	d.base = srv.URL

	d.b, err = e2e.Launch(e2e.Options{Timeout: 10 * time.Minute, HostPermissions: src.hostPermissions()})
	if err != nil {
		return fail(err)
	}
	defer d.b.Close()
	d.logf("Chromium started (fresh profile) with extension %s", d.b.ExtensionID)

	model, err := d.install(src)
	if err != nil {
		return fail(err)
	}
	res, err := d.summarize()
	if err != nil {
		return fail(err)
	}

	fmt.Printf("\n=== Summary of %s (%s) ===\n%s\n\n", d.base+articlePath, res.title, res.text)
	fmt.Printf("model:       %s (%s, %s, stored as %.1f MB)\n", res.model, model.Architecture, model.Quantization, float64(model.Bytes)/1e6)
	if res.stats != "" {
		fmt.Printf("popup stats: %s\n", res.stats)
	}
	fmt.Printf("timing:      install %.1f s, summary %.1f s (first text after %.1f s), total %.1f s\n",
		model.took.Seconds(), res.took.Seconds(), res.firstText.Seconds(), time.Since(d.start).Seconds())
	fmt.Printf("screenshots: %s\n", filepath.Join(d.root, "e2e", "artifacts", "screens"))
	for _, s := range res.screens {
		fmt.Printf("  %s\n", s)
	}
	return 0
}

// unreachableError explains a model URL the demo cannot fetch.
func unreachableError(src modelSource, err error) error {
	if src.From == fromCatalog {
		return fmt.Errorf("no local model and the catalog's default model %q cannot be downloaded from %s: %v\n"+
			"(is this machine offline?) Set DOPPLER_MODEL to a .gguf file, or DOPPLER_TEST_MODELS to a folder holding %s",
			src.CatalogID, src.URL, err, stories260KName)
	}
	return fmt.Errorf("DOPPLER_MODEL=%s cannot be downloaded: %v (is this machine offline? a local .gguf path works too)", src.URL, err)
}

// reachable checks that url answers a HEAD request (following redirects).
func reachable(url string, timeout time.Duration) error {
	c := &http.Client{Timeout: timeout}
	resp, err := c.Head(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("HEAD %s: %s", url, resp.Status)
	}
	return nil
}
