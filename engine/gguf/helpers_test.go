package gguf

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
)

// hb builds raw GGUF bytes by hand, for headers the Writer refuses to make.
type hb struct{ bytes.Buffer }

func (b *hb) u8(v uint8)   { b.WriteByte(v) }
func (b *hb) u32(v uint32) { _ = binary.Write(b, binary.LittleEndian, v) }
func (b *hb) u64(v uint64) { _ = binary.Write(b, binary.LittleEndian, v) }
func (b *hb) str(s string) { b.u64(uint64(len(s))); b.WriteString(s) }

// head starts a v3 file with the given counts.
func head(nTensors, nKV uint64) *hb {
	b := &hb{}
	b.WriteString(Magic)
	b.u32(3)
	b.u64(nTensors)
	b.u64(nKV)
	return b
}

// tensor writes a tensor info.
func (b *hb) tensor(name string, shape []uint64, typ uint32, off uint64) {
	b.str(name)
	b.u32(uint32(len(shape)))
	for _, d := range shape {
		b.u64(d)
	}
	b.u32(typ)
	b.u64(off)
}

// padTo pads with zeros to a multiple of a, then appends n data bytes.
func (b *hb) data(a, n int) []byte {
	for b.Len()%a != 0 {
		b.u8(0)
	}
	b.Write(make([]byte, n))
	return b.Bytes()
}

func readBytes(data []byte) (*File, error) { return Read(bytes.NewReader(data), int64(len(data))) }

func openFile(t testing.TB, p string) (*os.File, *File) {
	t.Helper()
	fh, err := os.Open(p)
	require.NoError(t, err)
	t.Cleanup(func() { fh.Close() })
	st, err := fh.Stat()
	require.NoError(t, err)
	f, err := Read(fh, st.Size())
	require.NoError(t, err, p)
	return fh, f
}

func stories(t testing.TB) string {
	p, err := refdata.Stories260K()
	return refdata.Must(t, p, err)
}

func vocabFiles(t testing.TB) []string {
	dir, err := refdata.TokenizerTestsDir()
	dir = refdata.Must(t, dir, err)
	files, err := filepath.Glob(filepath.Join(dir, "*.gguf"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no vocab GGUFs in %s", dir)
	return files
}

// sampleKVs covers every value type, empty and nested arrays.
func sampleKVs() []KV {
	return []KV{
		{"u8", uint8(200)},
		{"i8", int8(-100)},
		{"u16", uint16(60000)},
		{"i16", int16(-30000)},
		{"u32", uint32(4000000000)},
		{"i32", int32(-2000000000)},
		{"f32", float32(1.5e-5)},
		{"bool.t", true},
		{"bool.f", false},
		{"str", "héllo\x00world"},
		{"empty.str", ""},
		{"u64", uint64(math.MaxUint64)},
		{"i64", int64(math.MinInt64)},
		{"f64", math.Pi},
		{"a.u8", []uint8{1, 2, 255}},
		{"a.i8", []int8{-1, 0, 127}},
		{"a.u16", []uint16{1, 65535}},
		{"a.i16", []int16{-32768, 5}},
		{"a.u32", []uint32{7, 8, 9}},
		{"a.i32", []int32{-7, 8}},
		{"a.f32", []float32{0.5, float32(math.Inf(-1))}},
		{"a.u64", []uint64{1 << 63}},
		{"a.i64", []int64{-1 << 62}},
		{"a.f64", []float64{2.25, -0}},
		{"a.bool", []bool{true, false, true}},
		{"a.str", []string{"a", "", "▁b"}},
		{"a.empty", []uint32{}},
		{"a.nested", []any{[]int32{1, 2}, []string{"x"}, []any{[]bool{true}}, []float64{}}},
		{"a.nested.empty", []any{}},
	}
}

type sampleTensor struct {
	name  string
	shape []int64
	typ   dtype.DType
}

var sampleTensors = []sampleTensor{
	{"f32", []int64{3, 2}, dtype.F32},
	{"f16", []int64{5}, dtype.F16},
	{"bf16", []int64{7, 1, 1}, dtype.BF16},
	{"q4_0", []int64{64, 2}, dtype.Q4_0},
	{"q8_0", []int64{32}, dtype.Q8_0},
	{"q4_k", []int64{256, 1, 1, 2}, dtype.Q4_K},
	{"q6_k", []int64{256}, dtype.Q6_K},
	{"i32", []int64{3}, dtype.I32},
	{"empty", []int64{0, 4}, dtype.F32},
	{"scalar", nil, dtype.F32},
}

// patterned fills n bytes with a pattern unique to seed.
func patterned(n int64, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + seed*31 + 1)
	}
	return b
}

// sampleFile writes a file with sampleKVs and sampleTensors; alignment 0
// leaves general.alignment unset.
func sampleFile(t testing.TB, alignment uint32) ([]byte, map[string][]byte) {
	t.Helper()
	w := NewWriter()
	for _, kv := range sampleKVs() {
		w.Set(kv.Key, kv.Value)
	}
	if alignment != 0 {
		w.Set(AlignmentKey, alignment)
	}
	datas := map[string][]byte{}
	for i, st := range sampleTensors {
		n, err := TensorInfo{Shape: st.shape, Type: st.typ}.Bytes()
		require.NoError(t, err)
		data := patterned(n, i)
		datas[st.name] = data
		if i%2 == 0 {
			require.NoError(t, w.AddTensor(st.name, st.shape, st.typ, data))
		} else {
			require.NoError(t, w.AddTensorFunc(st.name, st.shape, st.typ, func(dst io.Writer) error {
				_, err := dst.Write(data)
				return err
			}))
		}
	}
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	require.NoError(t, err)
	require.EqualValues(t, buf.Len(), n)
	return buf.Bytes(), datas
}
