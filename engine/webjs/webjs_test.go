//go:build js && wasm

package webjs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsEval runs a JS expression through the Function constructor.
func jsEval(t *testing.T, expr string) safejs.Value {
	t.Helper()
	fn, err := safejs.Global().Get("Function")
	require.NoError(t, err)
	f, err := fn.New("return (" + expr + ");")
	require.NoError(t, err)
	v, err := f.Invoke()
	require.NoError(t, err)
	return v
}

func TestAwait(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		want    float64
		wantErr string
	}{
		{"resolved", "Promise.resolve(42)", 42, ""},
		{"later", "new Promise(r => setTimeout(() => r(7), 5))", 7, ""},
		{"plain value", "3", 3, ""},
		{"rejected Error", "Promise.reject(new TypeError('bad thing'))", 0, "TypeError: bad thing"},
		{"rejected string", "Promise.reject('just text')", 0, "just text"},
		{"rejected undefined", "Promise.reject()", 0, "rejected with undefined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Await(jsEval(t, tt.expr))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			f, err := v.Float()
			require.NoError(t, err)
			assert.Equal(t, tt.want, f)
		})
	}
}

func TestAwaitContextCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := AwaitContext(ctx, jsEval(t, "new Promise(() => {})"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestPromise(t *testing.T) {
	v, err := Await(Promise(func() (any, error) {
		// Blocking is allowed here: this runs in its own goroutine.
		inner, err := Await(jsEval(t, "Promise.resolve('inner')"))
		if err != nil {
			return nil, err
		}
		s, _ := inner.String()
		return map[string]any{"got": s, "n": 5}, nil
	}))
	require.NoError(t, err)
	data, err := ToJSON(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"got":"inner","n":5}`, string(data))

	_, err = Await(Promise(func() (any, error) { return nil, errors.New("no model loaded") }))
	require.EqualError(t, err, "Error: no model loaded")

	_, err = Await(Promise(func() (any, error) { panic("boom") }))
	require.EqualError(t, err, "Error: panic: boom")
}

func TestPromiseCalledFromJS(t *testing.T) {
	// The pattern the service worker uses: JS calls a Go func that returns a
	// Promise whose goroutine awaits another JS promise.
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		x, _ := args[0].Int()
		return Promise(func() (any, error) {
			v, err := Await(jsEval(t, "new Promise(r => setTimeout(() => r(10), 1))"))
			if err != nil {
				return nil, err
			}
			n, _ := v.Int()
			return n + x, nil
		})
	})
	require.NoError(t, err)
	defer f.Release()
	p, err := f.Value().Invoke(5)
	require.NoError(t, err)
	v, err := Await(p)
	require.NoError(t, err)
	n, err := v.Int()
	require.NoError(t, err)
	assert.Equal(t, 15, n)
}

func TestBytes(t *testing.T) {
	in := []byte{0, 1, 2, 254, 255}
	arr, err := BytesToJS(in)
	require.NoError(t, err)
	out, err := BytesFromJS(arr)
	require.NoError(t, err)
	assert.Equal(t, in, out)

	tests := []struct {
		name string
		expr string
		want []byte
	}{
		{"ArrayBuffer", "new Uint8Array([9, 8, 7]).buffer", []byte{9, 8, 7}},
		{"subarray", "new Uint8Array([1, 2, 3, 4]).subarray(1, 3)", []byte{2, 3}},
		{"Float32Array view", "new Float32Array(new Float32Array([0, 1]).buffer, 4, 1)", []byte{0, 0, 0x80, 0x3f}},
		{"empty", "new Uint8Array(0)", []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BytesFromJS(jsEval(t, tt.expr))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err = BytesFromJS(jsEval(t, "'not bytes'"))
	require.Error(t, err)
}

func TestErrors(t *testing.T) {
	err := JSError(jsEval(t, "new RangeError('too far')"))
	var je *Error
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "RangeError", je.Name)
	assert.Equal(t, "too far", je.Message)

	v := NewError(&Error{Name: "OperationError", Message: "lost"})
	assert.EqualError(t, JSError(v), "OperationError: lost")
	assert.EqualError(t, JSError(NewError(errors.New("plain"))), "Error: plain")
}

func TestJSON(t *testing.T) {
	v, err := FromJSON(map[string]any{"a": []int{1, 2}, "b": "x"})
	require.NoError(t, err)
	b, err := v.Get("b")
	require.NoError(t, err)
	s, err := b.String()
	require.NoError(t, err)
	assert.Equal(t, "x", s)
	data, err := ToJSON(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":[1,2],"b":"x"}`, string(data))
}

func TestValueOf(t *testing.T) {
	inner := jsEval(t, "({k: 1})")
	f, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { return 9 })
	require.NoError(t, err)
	defer f.Release()
	v, err := ValueOf(map[string]any{"obj": inner, "fn": f, "list": []any{inner, "s", 2.5}, "names": []string{"a"}})
	require.NoError(t, err)
	data, err := ToJSON(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"obj":{"k":1},"list":[{"k":1},"s",2.5],"names":["a"]}`, string(data))
	fn, err := v.Get("fn")
	require.NoError(t, err)
	r, err := fn.Invoke()
	require.NoError(t, err)
	n, err := r.Int()
	require.NoError(t, err)
	assert.Equal(t, 9, n)

	_, err = ValueOf(struct{}{})
	require.Error(t, err)
}
