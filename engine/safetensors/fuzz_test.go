package safetensors

import (
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
)

func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func FuzzReadHeader(f *testing.F) {
	f.Add(makeFile(f, map[string]string{"format": "pt"}, st{"a", "F32", []int64{2, 2}}, st{"b", "BF16", []int64{3}}))
	f.Add(makeFile(f, nil, st{"s", "F4", []int64{4}}, st{"e", "U8", []int64{0}}, st{"x", "F8_E4M3", []int64{}}))
	f.Add(rawFile(`{"__metadata__":{"k":"v"}}`, nil))
	// A real shard (the smallest of the sharded fixture, ~200 KB) and the
	// header of a bigger file, cut short.
	root := fixtures(f)
	shard, err := os.ReadFile(filepath.Join(root, "gemma3-bf16-sharded", "model-00002-of-00031.safetensors"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(shard)
	big, err := os.Open(filepath.Join(root, "qwen3moe-f32", "model.safetensors"))
	if err != nil {
		f.Fatal(err)
	}
	defer big.Close()
	head := make([]byte, 16<<10)
	if _, err := big.ReadAt(head, 0); err != nil {
		f.Fatal(err)
	}
	f.Add(head)

	f.Fuzz(func(t *testing.T, data []byte) {
		before := heapAllocs()
		h, err := readBytes(data)
		// JSON decoding allocates a few times the header; slack covers the
		// runtime counting small allocations a span at a time.
		if got := heapAllocs() - before; got > 16*uint64(len(data))+4<<20 {
			t.Fatalf("ReadHeader of %d bytes allocated %d bytes", len(data), got)
		}
		if err != nil {
			return
		}
		end := h.DataOffset
		for _, x := range h.Tensors {
			bits, ok := DTypeBits(x.DType)
			if !ok {
				t.Fatalf("tensor %q: accepted unknown dtype %q", x.Name, x.DType)
			}
			if x.Elements()*bits != x.Size*8 {
				t.Fatalf("tensor %q: size %d does not match shape %v", x.Name, x.Size, x.Shape)
			}
			if x.Offset < end || x.Offset+x.Size > int64(len(data)) {
				t.Fatalf("tensor %q: bytes %d-%d overlap or leave the file", x.Name, x.Offset, x.Offset+x.Size)
			}
			end = x.Offset + x.Size
		}
	})
}
