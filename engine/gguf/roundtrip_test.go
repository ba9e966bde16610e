package gguf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/dtype"
)

func TestWriterRoundTrip(t *testing.T) {
	for _, align := range []uint32{0, 1, 8, 64, 4096} {
		t.Run("", func(t *testing.T) {
			data, datas := sampleFile(t, align)
			f, err := readBytes(data)
			require.NoError(t, err)
			assert.EqualValues(t, 3, f.Version)
			want := sampleKVs()
			if align != 0 {
				want = append(want, KV{AlignmentKey, align})
			}
			assert.Equal(t, want, f.KV)
			wantAlign := int64(align)
			if align == 0 {
				wantAlign = DefaultAlignment
			}
			assert.Equal(t, wantAlign, f.Alignment)
			assert.Zero(t, f.DataOffset%wantAlign)
			require.Len(t, f.Tensors, len(sampleTensors))
			r := bytes.NewReader(data)
			for i, st := range sampleTensors {
				ti := f.Tensors[i]
				assert.Equal(t, st.name, ti.Name)
				assert.Equal(t, st.typ, ti.Type)
				assert.Equal(t, len(st.shape), len(ti.Shape))
				for j := range st.shape {
					assert.Equal(t, st.shape[j], ti.Shape[j])
				}
				assert.Zero(t, ti.Offset%uint64(wantAlign), ti.Name)
				got, err := f.ReadTensor(r, ti)
				require.NoError(t, err)
				assert.Equal(t, datas[st.name], got, ti.Name)
			}
			assert.Zero(t, int64(len(data))%wantAlign, "file ends padded")
			// Streaming sees the same header.
			g, err := ReadHeader(bytes.NewReader(data))
			require.NoError(t, err)
			assert.Equal(t, f, g)
		})
	}
}

func TestWriterSetReplacesInPlace(t *testing.T) {
	w := NewWriter()
	w.Set("a", uint32(1))
	w.Set("b", "x")
	w.Set("a", "now a string")
	w.Set("c", true)
	w.Delete("b")
	w.Delete("missing")
	var buf bytes.Buffer
	_, err := w.WriteTo(&buf)
	require.NoError(t, err)
	f, err := readBytes(buf.Bytes())
	require.NoError(t, err)
	assert.Equal(t, []KV{{"a", "now a string"}, {"c", true}}, f.KV)
	assert.Equal(t, f.DataOffset, int64(buf.Len()), "no tensors, no padding")
}

func TestWriterErrors(t *testing.T) {
	fail := errors.New("disk on fire")
	cases := []struct {
		name  string
		build func(w *Writer) error
		want  string
	}{
		{"int value", func(w *Writer) error { w.Set("k", 3); return nil }, `"k": unsupported value type int: use a sized type`},
		{"uint slice", func(w *Writer) error { w.Set("k", []uint{1}); return nil }, "unsupported value type []uint"},
		{"any of scalars", func(w *Writer) error { w.Set("k", []any{uint8(1)}); return nil }, "[]any holds only arrays"},
		{"map", func(w *Writer) error { w.Set("k", map[string]string{}); return nil }, "unsupported value type map"},
		{"alignment type", func(w *Writer) error { w.Set(AlignmentKey, uint64(32)); return nil }, "general.alignment is uint64, want uint32"},
		{"alignment not power of two", func(w *Writer) error { w.Set(AlignmentKey, uint32(24)); return nil }, "24 is not a power of two"},
		{"short data", func(w *Writer) error { return w.AddTensor("t", []int64{4}, dtype.F32, make([]byte, 15)) }, `"t": 15 bytes of data, shape [4] of F32 needs 16`},
		{"duplicate", func(w *Writer) error {
			require.NoError(t, w.AddTensor("t", []int64{1}, dtype.F32, make([]byte, 4)))
			return w.AddTensor("t", []int64{1}, dtype.F32, make([]byte, 4))
		}, `"t" added twice`},
		{"empty name", func(w *Writer) error { return w.AddTensor("", []int64{1}, dtype.F32, make([]byte, 4)) }, "empty name"},
		{"unknown dtype", func(w *Writer) error { return w.AddTensor("t", []int64{1}, dtype.DType(99), nil) }, `"t": unknown tensor type 99`},
		{"block size", func(w *Writer) error { return w.AddTensor("t", []int64{31}, dtype.Q4_0, nil) }, "not a multiple of the block size 32"},
		{"negative dim", func(w *Writer) error { return w.AddTensor("t", []int64{-1}, dtype.F32, nil) }, "negative dimension"},
		{"too many dims", func(w *Writer) error { return w.AddTensor("t", []int64{1, 1, 1, 1, 1}, dtype.F32, nil) }, "5 dimensions"},
		{"overflow", func(w *Writer) error { return w.AddTensor("t", []int64{1 << 40, 1 << 40}, dtype.F32, nil) }, "more than 2^63 elements"},
		{"nil func", func(w *Writer) error { return w.AddTensorFunc("t", []int64{1}, dtype.F32, nil) }, "nil write function"},
		{"func writes too little", func(w *Writer) error {
			return w.AddTensorFunc("t", []int64{2}, dtype.F32, func(dst io.Writer) error { _, err := dst.Write(make([]byte, 4)); return err })
		}, `"t": writer produced 4 bytes, want 8`},
		{"func fails", func(w *Writer) error {
			return w.AddTensorFunc("t", []int64{2}, dtype.F32, func(io.Writer) error { return fail })
		}, "disk on fire"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWriter()
			err := c.build(w)
			if err == nil {
				_, err = w.WriteTo(io.Discard)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestAccessors(t *testing.T) {
	f := &File{KV: []KV{
		{"u8", uint8(5)}, {"i8neg", int8(-3)}, {"i32", int32(7)}, {"u64big", uint64(math.MaxUint64)},
		{"f32", float32(0.5)}, {"f64", 2.5}, {"b", true}, {"s", "x"}, {"ss", []string{"a", "b"}},
	}}
	cases := []struct {
		key       string
		uint      uint64
		uintOK    bool
		int       int64
		intOK     bool
		float     float64
		floatOK   bool
		stringOK  bool
		boolOK    bool
		stringsOK bool
	}{
		{key: "u8", uint: 5, uintOK: true, int: 5, intOK: true, float: 5, floatOK: true},
		{key: "i8neg", int: -3, intOK: true, float: -3, floatOK: true},
		{key: "i32", uint: 7, uintOK: true, int: 7, intOK: true, float: 7, floatOK: true},
		{key: "u64big", uint: math.MaxUint64, uintOK: true, float: math.MaxUint64, floatOK: true},
		{key: "f32", float: 0.5, floatOK: true},
		{key: "f64", float: 2.5, floatOK: true},
		{key: "b", boolOK: true},
		{key: "s", stringOK: true},
		{key: "ss", stringsOK: true},
		{key: "missing"},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			u, ok := f.Uint(c.key)
			assert.Equal(t, c.uintOK, ok)
			assert.Equal(t, c.uint, u)
			i, ok := f.Int(c.key)
			assert.Equal(t, c.intOK, ok)
			assert.Equal(t, c.int, i)
			fl, ok := f.Float(c.key)
			assert.Equal(t, c.floatOK, ok)
			assert.Equal(t, c.float, fl)
			_, ok = f.String(c.key)
			assert.Equal(t, c.stringOK, ok)
			_, ok = f.Bool(c.key)
			assert.Equal(t, c.boolOK, ok)
			_, ok = f.Strings(c.key)
			assert.Equal(t, c.stringsOK, ok)
		})
	}
	b, _ := f.Bool("b")
	assert.True(t, b)
	m := f.Metadata()
	assert.Len(t, m, len(f.KV))
	assert.Equal(t, []string{"a", "b"}, m["ss"])
}

func TestTypeOf(t *testing.T) {
	for _, kv := range sampleKVs() {
		typ, err := TypeOf(kv.Value)
		require.NoError(t, err, kv.Key)
		assert.True(t, typ.Valid())
	}
	assert.Equal(t, "float32", Float32.String())
	assert.Equal(t, "type(13)", ValueType(13).String())
}
