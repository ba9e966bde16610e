package gpuops

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
)

// Uniform parameter structs are plain Go structs whose fields are uint32,
// int32, float32 (WGSL u32, i32, f32) or [4] arrays of them (vec4). Each
// field's `wgsl` tag names the WGSL member. WGSLStruct writes the WGSL
// declaration that kernels are compiled with and Uniform the matching bytes,
// so the layout has one source of truth: the Go struct.

// field is one member of a uniform struct with its WGSL layout.
type field struct {
	name   string
	wgsl   string // WGSL type
	offset int
	size   int
	index  []int // Go field index path (embedded structs are flattened)
}

// layout computes the WGSL uniform layout of struct type t: scalars are
// 4-byte aligned, vec4s 16-byte aligned, and the struct's size is rounded up
// to 16 bytes (uniform buffers must be bound in 16-byte multiples).
func layout(t reflect.Type) ([]field, int, error) {
	if t.Kind() != reflect.Struct {
		return nil, 0, fmt.Errorf("gpuops: uniform params must be a struct, not %v", t)
	}
	var fields []field
	off := 0
	if err := layoutFields(t, nil, &fields, &off); err != nil {
		return nil, 0, err
	}
	return fields, (off + 15) / 16 * 16, nil
}

// layoutFields appends the members of struct t (at Go index path) from
// byte offset *off; an embedded struct's members come in its place, so a
// kernel's params can extend another's.
func layoutFields(t reflect.Type, path []int, fields *[]field, off *int) error {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		idx := append(slices.Clone(path), i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if err := layoutFields(sf.Type, idx, fields, off); err != nil {
				return err
			}
			continue
		}
		name := sf.Tag.Get("wgsl")
		if name == "" {
			return fmt.Errorf("gpuops: field %s.%s has no wgsl tag", t.Name(), sf.Name)
		}
		scalar, vec := sf.Type, false
		if sf.Type.Kind() == reflect.Array {
			if sf.Type.Len() != 4 {
				return fmt.Errorf("gpuops: field %s.%s: only [4] arrays (vec4) are supported", t.Name(), sf.Name)
			}
			scalar, vec = sf.Type.Elem(), true
		}
		var ws string
		switch scalar.Kind() {
		case reflect.Uint32:
			ws = "u32"
		case reflect.Int32:
			ws = "i32"
		case reflect.Float32:
			ws = "f32"
		default:
			return fmt.Errorf("gpuops: field %s.%s has unsupported type %v", t.Name(), sf.Name, sf.Type)
		}
		size, align := 4, 4
		if vec {
			ws, size, align = "vec4<"+ws+">", 16, 16
		}
		*off = (*off + align - 1) / align * align
		*fields = append(*fields, field{name: name, wgsl: ws, offset: *off, size: size, index: idx})
		*off += size
	}
	return nil
}

// WGSLStruct returns the WGSL declaration `struct name { ... }` of params,
// with the byte offset of each member in a comment.
func WGSLStruct(name string, params any) (string, error) {
	fields, size, err := layout(reflect.TypeOf(params))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "struct %s { // %d bytes\n", name, size)
	for _, f := range fields {
		fmt.Fprintf(&b, "    %s: %s, // @%d\n", f.name, f.wgsl, f.offset)
	}
	b.WriteString("}\n")
	return b.String(), nil
}

// Uniform encodes params in the layout WGSLStruct declares.
func Uniform(params any) ([]byte, error) {
	v := reflect.ValueOf(params)
	fields, size, err := layout(v.Type())
	if err != nil {
		return nil, err
	}
	out := make([]byte, size)
	put := func(off int, x reflect.Value) {
		var u uint32
		switch x.Kind() {
		case reflect.Uint32:
			u = uint32(x.Uint())
		case reflect.Int32:
			u = uint32(int32(x.Int()))
		case reflect.Float32:
			u = math.Float32bits(float32(x.Float()))
		}
		binary.LittleEndian.PutUint32(out[off:], u)
	}
	for _, f := range fields {
		x := v.FieldByIndex(f.index)
		if x.Kind() == reflect.Array {
			for j := 0; j < 4; j++ {
				put(f.offset+4*j, x.Index(j))
			}
			continue
		}
		put(f.offset, x)
	}
	return out, nil
}

// mustUniform is Uniform for the package's own params structs, whose layout
// is checked by tests.
func mustUniform(params any) []byte {
	b, err := Uniform(params)
	if err != nil {
		panic(err)
	}
	return b
}
