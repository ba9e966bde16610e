// Package gguf reads and writes llama.cpp's GGUF model files (versions 2 and
// 3, little-endian). Readers work on an io.ReaderAt and never load the whole
// file: the header is parsed with every count and length checked against the
// bytes the file could still hold, so a truncated or hostile file gives an
// error, never a panic or a huge allocation. Tensor data is read on demand.
package gguf

import (
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/dtype"
)

// ValueType is a GGUF metadata value type id.
type ValueType uint32

// GGUF metadata value types, with their ids in the file.
const (
	Uint8   ValueType = 0
	Int8    ValueType = 1
	Uint16  ValueType = 2
	Int16   ValueType = 3
	Uint32  ValueType = 4
	Int32   ValueType = 5
	Float32 ValueType = 6
	Bool    ValueType = 7
	String  ValueType = 8
	Array   ValueType = 9
	Uint64  ValueType = 10
	Int64   ValueType = 11
	Float64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Valid reports whether t is a type GGUF defines.
func (t ValueType) Valid() bool { return t <= Float64 }

// minSize is the fewest bytes one value of type t occupies in a file: it
// bounds how many elements the rest of a file can hold.
func (t ValueType) minSize() int64 {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16:
		return 2
	case Uint32, Int32, Float32:
		return 4
	case Uint64, Int64, Float64, String: // a string is at least its 8-byte length
		return 8
	case Array: // element type + count
		return 4 + 8
	}
	return 1
}

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// AlignmentKey is the metadata key that overrides DefaultAlignment (uint32).
const AlignmentKey = "general.alignment"

// MaxDims is the most dimensions a ggml tensor has.
const MaxDims = 4

// KV is one metadata entry. Value's Go type is the GGUF type: uint8, int8,
// uint16, int16, uint32, int32, uint64, int64, float32, float64, bool, string;
// arrays are typed slices ([]uint8 ... []float64, []bool, []string), and
// arrays of arrays are []any whose elements are such slices (or []any).
type KV struct {
	Key   string
	Value any
}

// TensorInfo describes one tensor of a GGUF file.
type TensorInfo struct {
	Name   string
	Shape  []int64 // ggml order: Shape[0] is the innermost (contiguous) dimension
	Type   dtype.DType
	Offset uint64 // relative to the start of the data section
}

// Elements is the product of the shape (1 for a 0-dimensional tensor), or
// an error when a dimension is negative or the product overflows int64.
func (t TensorInfo) Elements() (int64, error) {
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, t.Shape)
		}
		if d != 0 && n > math.MaxInt64/d {
			return 0, fmt.Errorf("shape %v has more than 2^63 elements", t.Shape)
		}
		n *= d
	}
	return n, nil
}

// Bytes is the stored size of the tensor's data.
func (t TensorInfo) Bytes() (int64, error) {
	n, err := t.Elements()
	if err != nil {
		return 0, err
	}
	// RowBytes does not guard against overflow of blocks × block bytes.
	if bs, ts := int64(t.Type.BlockSize()), int64(t.Type.TypeSize()); bs > 0 && n/bs > math.MaxInt64/ts {
		return 0, fmt.Errorf("shape %v of %s is more than 2^63 bytes", t.Shape, t.Type)
	}
	b, err := t.Type.RowBytes(n)
	if err != nil {
		return 0, fmt.Errorf("shape %v: %w", t.Shape, err)
	}
	return b, nil
}

// File is a parsed GGUF header.
type File struct {
	Version   uint32
	KV        []KV         // file order
	Tensors   []TensorInfo // file order
	Alignment int64        // general.alignment, or DefaultAlignment
	// DataOffset is the absolute offset of the tensor data section: the end
	// of the header rounded up to Alignment, or the end of the header itself
	// when there are no tensors (llama.cpp writes vocab-only files unpadded).
	DataOffset int64
}

// Get returns the value of key.
func (f *File) Get(key string) (any, bool) {
	for i := range f.KV {
		if f.KV[i].Key == key {
			return f.KV[i].Value, true
		}
	}
	return nil, false
}

// String returns a string value.
func (f *File) String(key string) (string, bool) {
	v, _ := f.Get(key)
	s, ok := v.(string)
	return s, ok
}

// Uint returns an integer value of any integer type that is not negative.
func (f *File) Uint(key string) (uint64, bool) {
	v, _ := f.Get(key)
	return asUint(v)
}

// Int returns an integer value of any integer type that fits in int64.
func (f *File) Int(key string) (int64, bool) {
	v, _ := f.Get(key)
	return asInt(v)
}

// Float returns a float value, or an integer value converted to float64.
func (f *File) Float(key string) (float64, bool) {
	v, _ := f.Get(key)
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	if i, ok := asInt(v); ok {
		return float64(i), true
	}
	if u, ok := asUint(v); ok {
		return float64(u), true
	}
	return 0, false
}

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, bool) {
	v, _ := f.Get(key)
	b, ok := v.(bool)
	return b, ok
}

// Strings returns an array of strings.
func (f *File) Strings(key string) ([]string, bool) {
	v, _ := f.Get(key)
	s, ok := v.([]string)
	return s, ok
}

// Metadata returns every key with its value (values are shared, not copied).
func (f *File) Metadata() map[string]any {
	m := make(map[string]any, len(f.KV))
	for _, kv := range f.KV {
		m[kv.Key] = kv.Value
	}
	return m
}

// Tensor finds a tensor by name.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

func asUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	if i, ok := asInt(v); ok && i >= 0 {
		return uint64(i), true
	}
	return 0, false
}
