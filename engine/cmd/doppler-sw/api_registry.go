//go:build js && wasm

package main

import "github.com/hack-pad/safejs"

// apiMethods are the methods of globalThis.dopplerEngine besides status,
// registered by the files that implement them (in init). Each must return at
// once — a Promise (webjs.Promise) for anything that waits.
var apiMethods = map[string]func(e *engine, args []safejs.Value) any{}

// registerAPI adds a method to dopplerEngine.
func registerAPI(name string, fn func(e *engine, args []safejs.Value) any) {
	if _, dup := apiMethods[name]; dup {
		panic("doppler-sw: API method " + name + " registered twice")
	}
	apiMethods[name] = fn
}
