//go:build js && wasm

package webjs

import (
	"fmt"

	"github.com/hack-pad/safejs"
)

// Promise returns a JS Promise settled by fn, which runs in a new goroutine
// and so may block (Await, channels, I/O). fn's value is converted with
// ValueOf (safejs.Value, safejs.Func, numbers, strings, bools, []any and
// map[string]any, nested freely); an error rejects the promise with a JS Error, as does a
// panic in fn. Use it to expose Go functions to JavaScript:
//
//	safejs.FuncOf(func(this safejs.Value, args []safejs.Value) any {
//		return webjs.Promise(func() (any, error) { return work(args) })
//	})
func Promise(fn func() (any, error)) safejs.Value {
	var executor safejs.Func
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer executor.Release()
			v, err := run(fn)
			if err == nil {
				var jv safejs.Value
				if jv, err = ValueOf(v); err == nil {
					_, err = resolve.Invoke(jv)
					if err == nil {
						return
					}
				}
			}
			_, _ = reject.Invoke(NewError(err))
		}()
		return nil
	})
	if err != nil {
		return rejected(err)
	}
	ctor, err := safejs.Global().Get("Promise")
	if err != nil {
		return safejs.Undefined()
	}
	p, err := ctor.New(executor)
	if err != nil {
		executor.Release()
		return rejected(err)
	}
	return p
}

// run calls fn, turning a panic into an error so a promise is always settled.
func run(fn func() (any, error)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}

// rejected returns Promise.reject(new Error(err)).
func rejected(err error) safejs.Value {
	ctor, e := safejs.Global().Get("Promise")
	if e != nil {
		return safejs.Undefined()
	}
	p, e := ctor.Call("reject", NewError(err))
	if e != nil {
		return safejs.Undefined()
	}
	return p
}
