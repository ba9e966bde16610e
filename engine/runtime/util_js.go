//go:build js && wasm

package runtime

import (
	"fmt"
	"maps"
	"slices"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/hack-pad/safejs"
)

func gpuBinding(b *gpu.Buffer) gpu.Binding { return gpu.Binding{Buffer: b} }

// jsObject makes a JS object of fields, set in sorted order. From a Go
// map (safejs.ValueOf) the properties came in Go's random map order, so
// each object the replay function reads on every call had its own hidden
// class: what V8 made of that loop varied from process to process.
func jsObject(fields map[string]any) (safejs.Value, error) {
	ctor, err := safejs.Global().Get("Object")
	if err != nil {
		return safejs.Value{}, err
	}
	obj, err := ctor.New()
	if err != nil {
		return safejs.Value{}, err
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if err := obj.Set(k, fields[k]); err != nil {
			return safejs.Value{}, fmt.Errorf("runtime: JS field %s: %w", k, err)
		}
	}
	return obj, nil
}

// jsTyped is a new JS typed array (ctor: "Int32Array", "Uint32Array", ...)
// over a copy of b, little-endian elements.
func jsTyped(ctor string, b []byte) (safejs.Value, error) {
	global := safejs.Global()
	u8, err := global.Get("Uint8Array")
	if err != nil {
		return safejs.Value{}, err
	}
	bytes, err := u8.New(len(b))
	if err != nil {
		return safejs.Value{}, err
	}
	if _, err := safejs.CopyBytesToJS(bytes, b); err != nil {
		return safejs.Value{}, err
	}
	buf, err := bytes.Get("buffer")
	if err != nil {
		return safejs.Value{}, err
	}
	c, err := global.Get(ctor)
	if err != nil {
		return safejs.Value{}, err
	}
	return c.New(buf)
}
