package gguf

import (
	"bytes"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// f32 is ggml's F32 type id.
const f32 = 0

func TestMalformed(t *testing.T) {
	cases := []struct {
		name string
		file func() []byte
		want string
	}{
		{"empty", func() []byte { return nil }, "too short for a GGUF header"},
		{"bad magic", func() []byte { return []byte("GGML\x03\x00\x00\x00") }, `not a GGUF file (starts with "GGML"`},
		{"v1", func() []byte { b := &hb{}; b.WriteString(Magic); b.u32(1); return b.Bytes() }, "GGUF version 1 is not supported"},
		{"v4", func() []byte { b := &hb{}; b.WriteString(Magic); b.u32(4); return b.Bytes() }, "unsupported GGUF version 4"},
		{"big-endian", func() []byte { return []byte("GGUF\x00\x00\x00\x03") }, "big-endian GGUF"},
		{"truncated counts", func() []byte { return []byte("GGUF\x03\x00\x00\x00\x01\x00") }, "reading tensor count: unexpected end of file"},
		{"huge kv count", func() []byte { return head(0, math.MaxUint64).Bytes() }, "more than the file's 0 remaining bytes"},
		{"huge tensor count", func() []byte { b := head(1<<40, 0); b.Write(make([]byte, 100)); return b.Bytes() }, "1099511627776 tensors"},
		{"huge key length", func() []byte { b := head(0, 1); b.u64(math.MaxUint64); b.Write(make([]byte, 20)); return b.Bytes() }, "metadata 0: key: key of 18446744073709551615 bytes at offset 32 runs past the end of the file"},
		{"huge string value", func() []byte {
			b := head(0, 1)
			b.str("k")
			b.u32(uint32(String))
			b.u64(1 << 50)
			b.WriteString("short")
			return b.Bytes()
		}, `metadata 0 "k": string of 1125899906842624 bytes`},
		{"unknown value type", func() []byte { b := head(0, 1); b.str("k"); b.u32(13); b.u64(0); return b.Bytes() }, `metadata 0 "k": unknown value type 13`},
		{"unknown array type", func() []byte {
			b := head(0, 1)
			b.str("k")
			b.u32(uint32(Array))
			b.u32(77)
			b.u64(0)
			return b.Bytes()
		}, "unknown array element type 77"},
		{"huge array count", func() []byte {
			b := head(0, 1)
			b.str("k")
			b.u32(uint32(Array))
			b.u32(uint32(Uint32))
			b.u64(1 << 61)
			b.Write(make([]byte, 64))
			return b.Bytes()
		}, "array count 2305843009213693952"},
		{"huge nested array count", func() []byte {
			b := head(0, 1)
			b.str("k")
			b.u32(uint32(Array))
			b.u32(uint32(Array))
			b.u64(100)
			b.Write(make([]byte, 64))
			return b.Bytes()
		}, "array count 100"},
		{"bool 2", func() []byte { b := head(0, 1); b.str("k"); b.u32(uint32(Bool)); b.u8(2); return b.Bytes() }, "bool value 2"},
		{"bool array 3", func() []byte {
			b := head(0, 1)
			b.str("k")
			b.u32(uint32(Array))
			b.u32(uint32(Bool))
			b.u64(2)
			b.u8(1)
			b.u8(3)
			return b.Bytes()
		}, "bool array element 1 is 3"},
		{"deep nesting", func() []byte {
			b := head(0, 1)
			b.str("k")
			b.u32(uint32(Array))
			for i := 0; i < 40; i++ {
				b.u32(uint32(Array))
				b.u64(1)
			}
			b.Write(make([]byte, 64))
			return b.Bytes()
		}, "nested more than 32 deep"},
		{"duplicate key", func() []byte {
			b := head(0, 2)
			for i := 0; i < 2; i++ {
				b.str("k")
				b.u32(uint32(Uint8))
				b.u8(1)
			}
			return b.Bytes()
		}, `metadata 1: duplicate key "k"`},
		{"alignment type", func() []byte {
			b := head(0, 1)
			b.str(AlignmentKey)
			b.u32(uint32(Uint64))
			b.u64(32)
			return b.Bytes()
		}, "general.alignment is uint64, want uint32"},
		{"alignment zero", func() []byte { b := head(0, 1); b.str(AlignmentKey); b.u32(uint32(Uint32)); b.u32(0); return b.Bytes() }, "= 0 is not a power of two"},
		{"too many dims", func() []byte {
			b := head(1, 0)
			b.tensor("t", []uint64{1, 1, 1, 1, 1}, f32, 0)
			return b.data(32, 4)
		}, `tensor 0 "t": 5 dimensions, at most 4`},
		{"dim too large", func() []byte {
			b := head(1, 0)
			b.tensor("t", []uint64{1 << 63}, f32, 0)
			return b.data(32, 4)
		}, `tensor 0 "t": dimension 0 is 9223372036854775808, too large`},
		{"shape overflow", func() []byte {
			b := head(1, 0)
			b.tensor("t", []uint64{1 << 32, 1 << 32}, f32, 0)
			return b.data(32, 4)
		}, "more than 2^63 elements"},
		{"bytes overflow", func() []byte {
			b := head(1, 0)
			b.tensor("t", []uint64{1 << 62}, f32, 0)
			return b.data(32, 4)
		}, `tensor 0 "t": shape [4611686018427387904] of F32 is more than 2^63 bytes`},
		{"unknown dtype", func() []byte {
			b := head(2, 0)
			b.tensor("a", []uint64{1}, f32, 0)
			b.tensor("blk.1.attn_q.weight", []uint64{1}, 5, 32)
			return b.data(32, 64)
		}, `tensor 1 "blk.1.attn_q.weight": unknown tensor type 5`},
		{"block size", func() []byte {
			b := head(1, 0)
			b.tensor("q", []uint64{31}, 2, 0)
			return b.data(32, 64)
		}, `tensor 0 "q": shape [31]: Q4_0: 31 elements is not a multiple of the block size 32`},
		{"misaligned", func() []byte {
			b := head(1, 0)
			b.tensor("t", []uint64{1}, f32, 4)
			return b.data(32, 64)
		}, `tensor 0 "t": offset 4 is not a multiple of the alignment 32`},
		{"past end", func() []byte {
			b := head(1, 0)
			b.tensor("blk.1.attn_q.weight", []uint64{1}, f32, 64)
			return b.data(32, 32)
		}, `tensor 0 "blk.1.attn_q.weight": offset 160 past end of file (size 128)`},
		{"runs past end", func() []byte {
			b := head(1, 0)
			b.tensor("t", []uint64{16}, f32, 0)
			return b.data(32, 32)
		}, `tensor 0 "t": 64 bytes at offset 64 run past end of file (size 96)`},
		{"overlap", func() []byte {
			b := head(2, 0)
			b.tensor("a", []uint64{16}, f32, 0)
			b.tensor("b", []uint64{1}, f32, 32)
			return b.data(32, 64)
		}, `tensor 1 "b" (bytes 128-132) overlaps tensor 0 "a" (bytes 96-160)`},
		{"duplicate tensor", func() []byte {
			b := head(2, 0)
			b.tensor("a", []uint64{1}, f32, 0)
			b.tensor("a", []uint64{1}, f32, 32)
			return b.data(32, 64)
		}, `tensor 1: duplicate name "a"`},
		{"truncated tensor info", func() []byte {
			b := head(1, 0)
			b.str("tname")
			b.u32(2)
			b.u64(4)
			return b.Bytes()
		}, `tensor 0 "tname": unexpected end of file`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.file()
			_, err := readBytes(data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), "gguf: ")
			// Streaming must reject it too, unless only the size check fails.
			_, serr := ReadHeader(bytes.NewReader(data))
			if !bytes.Contains([]byte(c.want), []byte("end of file (size")) && c.name != "huge kv count" && c.name != "huge tensor count" {
				require.Error(t, serr)
			}
		})
	}
}

// Every strict prefix of a valid file is an error, never a panic; ReadHeader
// succeeds exactly on prefixes that hold the whole header.
func TestTruncation(t *testing.T) {
	data, _ := sampleFile(t, 0)
	full, err := readBytes(data)
	require.NoError(t, err)
	// The padding after the last tensor is optional; anything shorter fails.
	var end int64
	for _, ti := range full.Tensors {
		b, err := ti.Bytes()
		require.NoError(t, err)
		end = max(end, full.DataOffset+int64(ti.Offset)+b)
	}
	require.Less(t, end, int64(len(data)))
	for n := 0; n < len(data); n++ {
		_, err := readBytes(data[:n])
		if int64(n) < end {
			require.Error(t, err, "prefix %d of %d", n, len(data))
		} else {
			require.NoError(t, err, "prefix %d of %d", n, len(data))
		}
		_, err = ReadHeader(bytes.NewReader(data[:n]))
		if int64(n) < full.DataOffset {
			require.Error(t, err, "streaming prefix %d", n)
		} else {
			require.NoError(t, err, "streaming prefix %d", n)
		}
	}
}

// Truncating stories260K anywhere in its header, or in the data, fails.
func TestTruncationStories(t *testing.T) {
	data, err := os.ReadFile(stories(t))
	require.NoError(t, err)
	full, err := readBytes(data)
	require.NoError(t, err)
	for n := int64(0); n < full.DataOffset; n += 7 {
		_, err := readBytes(data[:n])
		require.Error(t, err, "prefix %d", n)
	}
	for _, n := range []int{len(data) - 1, len(data) - 32, len(data) / 2, int(full.DataOffset) + 1} {
		_, err := readBytes(data[:n])
		require.Error(t, err, "prefix %d", n)
		assert.Contains(t, err.Error(), "end of file")
	}
}
