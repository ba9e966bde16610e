// Package e2e drives the real extension in headless Chromium with chromedp:
// it loads dist/extension (make build), attaches to the extension's service
// worker, opens extension pages as tabs, evaluates JavaScript in either,
// collects their console output and Chromium's log, and saves screenshots
// and logs under e2e/artifacts/TEST/ when a test fails.
//
// The tests carry the build tag e2e, so a plain `go test ./...` needs no
// browser; run them with `make test-e2e` (or `make test`), which builds the
// extension first:
//
//	go test -tags e2e -count=1 ./e2e/...
//
// Typical use in a test:
//
//	b := e2e.Start(t, e2e.Options{})
//	st, err := e2e.EvalWorker[map[string]any](b, `status()`)
//	page := b.MustOpenPage(t, "popup.html")
//	msg, err := e2e.Eval[map[string]any](page.Ctx, `window.dopplerStatus`)
//
// Pages of a test HTTP server (e2e.Serve) are on http://127.0.0.1:PORT, a
// secure context that the e2e copy of the extension has host permission for
// (added to a temporary copy of the manifest, never to the store zip).
package e2e
