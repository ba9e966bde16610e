# Doppler: `make demo` runs the extension in Chromium, `make test` runs every
# test. See README.md.

SHELL := /bin/bash
GO ?= go
ROOT := $(CURDIR)

DIST := dist
EXT := $(DIST)/extension
ZIP := $(DIST)/doppler-extension.zip
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

# js/wasm tests run under Node + Dawn (navigator.gpu) through build/wasm-exec.
WASM_EXEC := $(ROOT)/build/wasm-exec
# Packages under these roots are vetted for js/wasm.
WASM_ROOTS := ./engine/... ./storage/... ./kernels/...
# Packages that need a real browser (OPFS, ...) instead of Node: one pattern
# a line in build/browser-test-packages, run through build/browsertest.
BROWSER_PKGS := $(shell sed -e 's/\#.*//' build/browser-test-packages 2>/dev/null)
BROWSER_EXEC := $(ROOT)/.cache/bin/browsertest
# e2e tests: build tag e2e, so a plain `go test ./...` needs no Chromium.
E2E_FLAGS ?= -count=1 -timeout 15m
# Our Go sources, for gofmt (not node_modules, caches or build outputs).
GO_FILES = $$(find . \( -name node_modules -o -name .cache -o -name dist -o -name .git \) -prune -o -name '*.go' -print)

.PHONY: all setup build test test-native test-wasm test-browser test-e2e demo oracle fmt vet clean

all: build

setup:
	@build/setup.sh

# The unpacked extension in dist/extension and the Web Store zip.
build: setup
	@rm -rf $(EXT) && mkdir -p $(EXT)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" \
		-o $(EXT)/engine.wasm ./engine/cmd/doppler-sw
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" engine/runtime/replay.js $(EXT)/
	cp -R extension/. $(EXT)/ && rm -f $(EXT)/protocol.md
	mkdir -p $(EXT)/vendor && cp build/node_modules/@mozilla/readability/Readability.js $(EXT)/vendor/ && cp build/node_modules/@mozilla/readability/LICENSE.md $(EXT)/vendor/Readability.LICENSE.md
	cp manifest.json $(EXT)/
	$(GO) run ./build/zipdir -store -o $(ZIP) $(EXT)
	@echo "built $(EXT) and $(ZIP) ($$(du -h $(ZIP) | cut -f1))"

# Every stage runs even when an earlier one failed; the target fails if any did.
test: setup
	@status=0; \
	for t in vet test-native test-wasm test-browser test-e2e; do \
		echo "=== make $$t"; \
		$(MAKE) --no-print-directory $$t || { echo "=== FAIL: make $$t"; status=1; }; \
	done; \
	[ $$status = 0 ] && echo "=== make test: all stages passed"; exit $$status

test-native:
	$(GO) test ./...

# Only packages with js-specific tests run under Node+Dawn: pure-Go packages
# are tested natively (and vetted for js/wasm by `make vet`), which keeps CI
# inside its time budget.
test-wasm:
	@pkgs=$$(grep -rlE --include='*_test.go' '^//go:build.*\bjs\b' engine storage kernels | xargs -r -n1 dirname | sort -u | sed 's|^|./|'); \
	if [ -n "$(strip $(BROWSER_PKGS))" ]; then \
		pkgs=$$(grep -v -x -F -f <(GOOS=js GOARCH=wasm $(GO) list -f '{{.Dir}}' $(BROWSER_PKGS) | sed "s|^$(ROOT)/|./|") <<<"$$pkgs"); \
	fi; \
	echo "GOOS=js GOARCH=wasm $(GO) test -exec build/wasm-exec ($$(wc -w <<<"$$pkgs") packages)"; \
	GOOS=js GOARCH=wasm $(GO) test -exec "$(WASM_EXEC)" $$pkgs

test-browser:
ifneq ($(strip $(BROWSER_PKGS)),)
	$(GO) build -o $(BROWSER_EXEC) ./build/browsertest
	GOOS=js GOARCH=wasm $(GO) test -exec "$(BROWSER_EXEC)" $(BROWSER_PKGS)
else
	@echo "no browser test packages (build/browser-test-packages)"
endif

test-e2e: build
	$(GO) test -tags e2e $(E2E_FLAGS) ./e2e/...

# The main job: build, start Chromium with the extension, print what the
# engine reports.
demo: build
	$(GO) run ./e2e/cmd/demo
	@echo "screenshots of the popup, side panel and options page (saved by make test-e2e): $(ROOT)/e2e/artifacts/screens/"

# Reference checks against other runtimes: every build/oracle/*.sh must pass.
oracle: setup
	@build/setup.sh oracle
	@status=0; for s in build/oracle/*.sh; do \
		[ -e "$$s" ] || continue; \
		echo "=== $$s"; bash "$$s" || { echo "=== FAIL: $$s"; status=1; }; \
	done; exit $$status

fmt:
	gofmt -l -w $(GO_FILES)

# go vet natively, with the e2e tag, and for js/wasm; then gofmt. All run;
# the target fails if any did.
vet:
	@status=0; \
	$(GO) vet ./... || status=1; \
	$(GO) vet -tags e2e ./e2e/... || status=1; \
	GOOS=js GOARCH=wasm $(GO) vet $(WASM_ROOTS) || status=1; \
	unformatted=$$(gofmt -l $(GO_FILES)); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; status=1; fi; \
	exit $$status

clean:
	rm -rf $(DIST) .cache/bin .cache/doppler.wasm e2e/artifacts
