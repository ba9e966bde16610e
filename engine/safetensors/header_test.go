package safetensors

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadHeaderValid(t *testing.T) {
	file := makeFile(t, map[string]string{"format": "pt"},
		st{"b", "F16", []int64{2, 3}},
		st{"a", "F32", []int64{4}},
		st{"scalar", "BF16", []int64{}},
		st{"empty", "F32", []int64{0, 5}},
		st{"bits", "F4", []int64{2, 3}},
	)
	h, err := readBytes(file)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"format": "pt"}, h.Metadata)
	hdrLen := int64(binary.LittleEndian.Uint64(file))
	assert.Equal(t, 8+hdrLen, h.DataOffset)
	// Sorted by offset; the empty tensor sorts before the one sharing its offset.
	var names []string
	for _, x := range h.Tensors {
		names = append(names, x.Name)
	}
	assert.Equal(t, []string{"b", "a", "scalar", "empty", "bits"}, names)
	b, _ := h.Tensor("b")
	assert.Equal(t, Tensor{Name: "b", DType: "F16", Shape: []int64{2, 3}, Offset: h.DataOffset, Size: 12}, b)
	a, ok := h.Tensor("a")
	require.True(t, ok)
	assert.Equal(t, h.DataOffset+12, a.Offset)
	assert.EqualValues(t, 16, a.Size)
	assert.EqualValues(t, 4, a.Elements())
	s, _ := h.Tensor("scalar")
	assert.EqualValues(t, 2, s.Size)
	assert.EqualValues(t, 1, s.Elements())
	bits, _ := h.Tensor("bits")
	assert.EqualValues(t, 3, bits.Size)
	_, ok = h.Tensor("zzz")
	assert.False(t, ok)
}

func TestReadHeaderMalformed(t *testing.T) {
	tensor := func(dt, shape, offs string) string {
		return `{"t":{"dtype":"` + dt + `","shape":` + shape + `,"data_offsets":` + offs + `}}`
	}
	data16 := make([]byte, 16)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short for a header"},
		{"huge header length", binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds the 104857600-byte limit"},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "header length 100 runs past the end of the file (size 10)"},
		{"tiny header", append(binary.LittleEndian.AppendUint64(nil, 1), '{'), "too short for a JSON object"},
		{"not json", rawFile("[1,2]", nil), "does not start with a JSON object"},
		{"broken json", rawFile(`{"t":{"dtype":"F32",`, nil), `tensor "t": header JSON ends early`},
		{"broken json key", rawFile(`{"t"`, nil), `tensor "t": header JSON ends early`},
		{"broken json start", rawFile(`{1:2}`, nil), "header JSON: invalid character"},
		{"trailing garbage", rawFile(`{} x`, nil), `unexpected byte 'x' after the JSON object`},
		{"duplicate", rawFile(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `duplicate entry "t"`},
		{"unknown dtype", rawFile(tensor("F128", "[1]", "[0,16]"), data16), `tensor "t": unknown dtype "F128"`},
		{"missing dtype", rawFile(`{"t":{"shape":[1],"data_offsets":[0,4]}}`, data16), `tensor "t": missing dtype`},
		{"missing shape", rawFile(`{"t":{"dtype":"F32","data_offsets":[0,4]}}`, data16), "missing shape"},
		{"missing offsets", rawFile(`{"t":{"dtype":"F32","shape":[1]}}`, data16), "missing data_offsets"},
		{"size mismatch", rawFile(tensor("F32", "[3]", "[0,16]"), data16), `data_offsets [0, 16] hold 16 bytes, shape [3] of F32 needs 12`},
		{"past end", rawFile(tensor("F32", "[8]", "[0,32]"), data16), "run past the end of the file (data section is 16 bytes)"},
		{"reversed offsets", rawFile(tensor("F32", "[1]", "[8,4]"), data16), "bad data_offsets [8, 4]"},
		{"negative offset", rawFile(tensor("F32", "[1]", "[-4,0]"), data16), "bad data_offsets [-4, 0]"},
		{"negative dim", rawFile(tensor("F32", "[-1]", "[0,4]"), data16), "negative dimension"},
		{"fractional dim", rawFile(tensor("F32", "[1.5]", "[0,4]"), data16), `tensor "t"`},
		{"huge shape", rawFile(tensor("F32", "[4294967296,4294967296]", "[0,4]"), data16), "is too large"},
		{"partial bytes", rawFile(tensor("F4", "[3]", "[0,1]"), data16), "not a whole number of bytes"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, data16), `tensor "b" (bytes 124-132) overlaps tensor "a" (bytes 120-128)`},
		{"metadata not strings", rawFile(`{"__metadata__":{"n":1}}`, nil), "__metadata__ must map strings to strings"},
		{"empty name", rawFile(`{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, data16), "empty tensor name"},
		{"tensor not object", rawFile(`{"t":[1]}`, nil), `tensor "t"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readBytes(c.file)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "safetensors: "), err.Error())
		})
	}
}

// Every prefix of a valid file fails cleanly (the last tensor then runs past
// the end, or the header is cut).
func TestReadHeaderTruncated(t *testing.T) {
	file := makeFile(t, nil, st{"a", "F32", []int64{3}}, st{"b", "I8", []int64{5}})
	_, err := readBytes(file)
	require.NoError(t, err)
	for n := 0; n < len(file); n++ {
		_, err := ReadHeader(bytes.NewReader(file[:n]), int64(n))
		require.Error(t, err, "prefix %d", n)
	}
}

func TestDTypeBits(t *testing.T) {
	for dt, want := range map[string]int64{"F32": 32, "BF16": 16, "F16": 16, "I64": 64, "BOOL": 8, "F8_E4M3": 8} {
		b, ok := DTypeBits(dt)
		assert.True(t, ok)
		assert.Equal(t, want, b, dt)
	}
	_, ok := DTypeBits("f32")
	assert.False(t, ok, "dtype names are case-sensitive, as in the format")
}
