//go:build js && wasm

package webjs

import (
	"fmt"

	"github.com/hack-pad/safejs"
)

// BytesToJS returns a new Uint8Array holding a copy of b.
func BytesToJS(b []byte) (safejs.Value, error) {
	ctor, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return safejs.Undefined(), err
	}
	arr, err := ctor.New(len(b))
	if err != nil {
		return safejs.Undefined(), err
	}
	if _, err := safejs.CopyBytesToJS(arr, b); err != nil {
		return safejs.Undefined(), err
	}
	return arr, nil
}

// BytesFromJS copies a Uint8Array, ArrayBuffer or other ArrayBufferView
// (typed array, DataView) into a new Go slice.
func BytesFromJS(v safejs.Value) ([]byte, error) {
	u8, err := AsUint8Array(v)
	if err != nil {
		return nil, err
	}
	n, err := u8.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, u8); err != nil {
		return nil, err
	}
	return b, nil
}

// AsUint8Array views v's bytes as a Uint8Array without copying.
func AsUint8Array(v safejs.Value) (safejs.Value, error) {
	global := safejs.Global()
	u8ctor, err := global.Get("Uint8Array")
	if err != nil {
		return safejs.Undefined(), err
	}
	if ok, _ := v.InstanceOf(u8ctor); ok {
		return v, nil
	}
	abctor, err := global.Get("ArrayBuffer")
	if err != nil {
		return safejs.Undefined(), err
	}
	if ok, _ := v.InstanceOf(abctor); ok {
		return u8ctor.New(v)
	}
	// ArrayBufferView: typed arrays and DataView.
	buf, err := v.Get("buffer")
	if err == nil && buf.Type() == safejs.TypeObject {
		off, err1 := v.Get("byteOffset")
		n, err2 := v.Get("byteLength")
		if err1 == nil && err2 == nil && off.Type() == safejs.TypeNumber && n.Type() == safejs.TypeNumber {
			return u8ctor.New(buf, off, n)
		}
	}
	return safejs.Undefined(), fmt.Errorf("webjs: %s is not an ArrayBuffer or ArrayBufferView", v.Type())
}
