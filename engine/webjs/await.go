//go:build js && wasm

package webjs

import (
	"context"
	"fmt"

	"github.com/hack-pad/safejs"
)

// Await waits for a JS promise (or any thenable) and returns its value, or
// its rejection as an error. A value that is not a thenable is returned as is.
//
// Call it only from a goroutine that is not running a JS callback: blocking in
// a Go function that JavaScript called (a FuncOf handler, a Promise executor)
// deadlocks the js/wasm runtime. Tests, main, and goroutines started with `go`
// (as Promise does) are fine.
func Await(promise safejs.Value) (safejs.Value, error) {
	return AwaitContext(context.Background(), promise)
}

// AwaitContext is Await that gives up when ctx is done. The promise itself
// keeps running in JS; its result is then dropped.
func AwaitContext(ctx context.Context, promise safejs.Value) (safejs.Value, error) {
	if !IsThenable(promise) {
		return promise, nil
	}
	type result struct {
		v   safejs.Value
		err error
	}
	// Buffered: a late settlement after ctx ended must not block JS.
	done := make(chan result, 1)
	onResolve, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		done <- result{v: arg0(args)}
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	onReject, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		done <- result{err: JSError(arg0(args))}
		return nil
	})
	if err != nil {
		onResolve.Release()
		return safejs.Undefined(), err
	}
	if _, err := promise.Call("then", onResolve, onReject); err != nil {
		onResolve.Release()
		onReject.Release()
		return safejs.Undefined(), fmt.Errorf("webjs: promise.then: %w", err)
	}
	select {
	case r := <-done:
		onResolve.Release()
		onReject.Release()
		return r.v, r.err
	case <-ctx.Done():
		// The callbacks stay alive (not released) so a late settlement does
		// not call a released func; the buffered channel absorbs it.
		return safejs.Undefined(), ctx.Err()
	}
}

// IsThenable reports whether v is an object or function with a then method.
func IsThenable(v safejs.Value) bool {
	t := v.Type()
	if t != safejs.TypeObject && t != safejs.TypeFunction {
		return false
	}
	then, err := v.Get("then")
	return err == nil && then.Type() == safejs.TypeFunction
}

func arg0(args []safejs.Value) safejs.Value {
	if len(args) == 0 {
		return safejs.Undefined()
	}
	return args[0]
}
