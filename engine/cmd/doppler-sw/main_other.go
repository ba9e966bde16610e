//go:build !(js && wasm)

// Command doppler-sw is the engine for the extension's service worker; it is
// built only for js/wasm (make build). See main.go.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "doppler-sw runs in the browser: build it with GOOS=js GOARCH=wasm (make build)")
	os.Exit(1)
}
