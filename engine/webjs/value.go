//go:build js && wasm

package webjs

import (
	"fmt"
	"syscall/js"

	"github.com/hack-pad/safejs"
)

// ValueOf converts v to a JS value like js.ValueOf, but also accepts
// safejs.Value, safejs.Func and *Error (also nested inside map[string]any and
// []any, where safejs.ValueOf rejects them), and returns an error instead of
// panicking on unsupported types.
func ValueOf(v any) (out safejs.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("webjs: ValueOf(%T): %v", v, r)
		}
	}()
	return safejs.Safe(js.ValueOf(toJS(v))), nil
}

func toJS(v any) any {
	switch x := v.(type) {
	case safejs.Value:
		return safejs.Unsafe(x)
	case safejs.Func:
		return safejs.Unsafe(x.Value())
	case *Error:
		return safejs.Unsafe(NewError(x))
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = toJS(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = toJS(e)
		}
		return s
	case []string:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = e
		}
		return s
	}
	return v
}
