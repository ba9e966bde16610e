//go:build js && wasm

// Command doppler-sw is the engine as it runs in the extension's service
// worker (built to dist/extension/engine.wasm). It exposes a Promise-based
// API on globalThis.dopplerEngine and tells background.js it is ready by
// calling globalThis.__dopplerOnReady(engine).
//
// Every method returns a Promise and does its work in a goroutine: a Go
// function called from JS must never block (see engine/webjs).
package main

import (
	"context"
	"time"

	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/hack-pad/safejs"
)

func main() {
	e := newEngine()
	api, err := e.exports()
	if err != nil {
		panic(err)
	}
	global := safejs.Global()
	if err := global.Set("dopplerEngine", api); err != nil {
		panic(err)
	}
	if ready, err := global.Get("__dopplerOnReady"); err == nil && ready.Type() == safejs.TypeFunction {
		if _, err := ready.Invoke(api); err != nil {
			panic(err)
		}
	}
	select {} // serve calls from JS for the worker's lifetime
}

// exports builds the JS object of the engine's methods.
func (e *engine) exports() (safejs.Value, error) {
	status, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return webjs.FromJSON(e.status(ctx))
		})
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	api := map[string]any{
		"version": version,
		"status":  status,
	}
	// Methods other files register (api_registry.go).
	for name, fn := range apiMethods {
		f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any { return fn(e, args) })
		if err != nil {
			return safejs.Undefined(), err
		}
		api[name] = f
	}
	return webjs.ValueOf(api)
}
