// Command browsertest runs a GOOS=js GOARCH=wasm program, typically a test
// binary, inside headless Chromium, so that code using browser APIs (OPFS,
// fetch, WebGPU) is tested where it runs. It is meant for go test's -exec:
//
//	GOOS=js GOARCH=wasm go test -exec "go run ./build/browsertest" ./storage/opfs/
//
// It serves the wasm file, Go's wasm_exec.js and a small harness on
// 127.0.0.1 (a secure context, so OPFS and WebGPU exist), starts Chromium,
// streams the program's stdout and stderr to its own, and exits with the
// program's exit code. Arguments after the wasm path (-test.v, -test.run, …)
// become the program's os.Args.
//
// Flags (before the wasm path) or environment variables:
//
//	-mode page|worker   BROWSERTEST_MODE: run in a page (default) or in the
//	                    service worker of a temporary MV3 extension
//	-chrome PATH        BROWSERTEST_CHROME: the browser (default
//	                    /usr/lib/chromium/chromium, then chromedp's search)
//	-timeout D          BROWSERTEST_TIMEOUT: whole-run limit (default: the
//	                    program's -test.timeout plus one minute, else 10m)
//	-console            BROWSERTEST_CONSOLE=1: copy every console line of
//	                    the page to stderr (default: warnings and errors)
//
// The program sees the environment variables named DOPPLER_* and
// BROWSERTEST_*, and those listed (comma-separated) in BROWSERTEST_ENV:
// wasm_exec passes argv and env through 8 KiB of memory, so not everything.
//
// Files: the folder named by BROWSERTEST_SERVE (default: the project's test
// models, $DOPPLER_TEST_MODELS or ../shared/models) is served at /files/
// with Range support; BROWSERTEST_FILES_URL in the program's environment is
// its address.
//
// The program can ask the runner to override its origin's storage quota
// (CDP Storage.overrideQuotaForOrigin) with a POST to /quota?bytes=N on the
// server it was loaded from (bytes=-1 resets it); BROWSERTEST_ORIGIN_URL in
// its environment names that server. Exit codes: the program's own, or 3
// when the harness failed, 4 on timeout, 5 when the browser could not run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"time"
)

const (
	exitHarness = 3
	exitTimeout = 4
	exitBrowser = 5
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("browsertest", flag.ContinueOnError)
	mode := fs.String("mode", envOr("BROWSERTEST_MODE", "page"), "page or worker")
	chrome := fs.String("chrome", os.Getenv("BROWSERTEST_CHROME"), "browser executable")
	timeout := fs.Duration("timeout", 0, "whole-run limit (0: from -test.timeout)")
	console := fs.Bool("console", os.Getenv("BROWSERTEST_CONSOLE") == "1", "copy every console line to stderr")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: browsertest [-mode page|worker] [-chrome PATH] [-timeout D] [-console] PROGRAM.wasm [ARGS...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return 2
	}
	if *mode != "page" && *mode != "worker" {
		fmt.Fprintf(os.Stderr, "browsertest: -mode must be page or worker, not %q\n", *mode)
		return 2
	}
	if *timeout == 0 {
		if v := os.Getenv("BROWSERTEST_TIMEOUT"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				fmt.Fprintf(os.Stderr, "browsertest: BROWSERTEST_TIMEOUT: %v\n", err)
				return 2
			}
			*timeout = d
		} else {
			*timeout = runLimit(fs.Args()[1:])
		}
	}

	wasmPath := fs.Arg(0)
	args := fs.Args()[1:]
	srv, err := newServer(wasmPath, args, programEnv())
	if err != nil {
		fmt.Fprintf(os.Stderr, "browsertest: %v\n", err)
		return exitHarness
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()

	b := &browser{exec: *chrome, mode: *mode, console: *console, srv: srv}
	code, err := b.run(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "browsertest: %v\n", err)
	}
	return code
}

// runLimit is the program's own -test.timeout plus a minute for the browser
// to start and stop, so that go test's timeout panic (with its goroutine
// dump) wins over ours.
func runLimit(args []string) time.Duration {
	re := regexp.MustCompile(`^--?test\.timeout=(.+)$`)
	for _, a := range args {
		if m := re.FindStringSubmatch(a); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil && d > 0 {
				return d + time.Minute
			}
		}
	}
	return 10 * time.Minute
}

func programEnv() map[string]string {
	extra := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("BROWSERTEST_ENV"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			extra[n] = true
		}
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DOPPLER_") || strings.HasPrefix(k, "BROWSERTEST_") || extra[k] {
			env[k] = v
		}
	}
	return env
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
