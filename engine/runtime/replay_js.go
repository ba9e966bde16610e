//go:build js && wasm

package runtime

import (
	_ "embed"
	"sync"

	"github.com/hack-pad/safejs"
)

// replaySource defines globalThis.dopplerReplay. Hosts load it as a script
// (the extension's service worker importScripts it; extension CSP forbids
// eval); under Node the runtime evaluates it itself through node:vm.
//
//go:embed replay.js
var replaySource string

// ReplaySource is replay.js, for hosts that install it themselves.
func ReplaySource() string { return replaySource }

var (
	replayOnce sync.Once
	replayFn   safejs.Value
	replayOK   bool
)

// replayFunc returns globalThis.dopplerReplay, installing it under Node when
// missing; ok is false where it cannot be installed (then steps are encoded
// from Go, several JS calls per dispatch).
func replayFunc() (safejs.Value, bool) {
	replayOnce.Do(func() {
		g := safejs.Global()
		if f, err := g.Get("dopplerReplay"); err == nil && f.Type() == safejs.TypeFunction {
			replayFn, replayOK = f, true
			return
		}
		req, err := g.Get("require")
		if err != nil || req.Type() != safejs.TypeFunction {
			return
		}
		vm, err := req.Invoke("vm")
		if err != nil {
			return
		}
		if _, err := vm.Call("runInThisContext", replaySource, "doppler-replay.js"); err != nil {
			return
		}
		if f, err := g.Get("dopplerReplay"); err == nil && f.Type() == safejs.TypeFunction {
			replayFn, replayOK = f, true
		}
	})
	return replayFn, replayOK
}
