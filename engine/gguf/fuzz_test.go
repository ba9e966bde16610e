package gguf

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
)

// heapAllocs is the cumulative bytes allocated on the heap; cheap to read,
// unlike runtime.ReadMemStats, which stops the world.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// allocLimit is what parsing n bytes may allocate: a few times the input,
// plus slack because the runtime counts small allocations when a P's cached
// span is refilled, so a reading can include up to ~1 MB allocated earlier.
func allocLimit(n int) uint64 { return 8*uint64(n) + 4<<20 }

func FuzzRead(f *testing.F) {
	for _, align := range []uint32{0, 1, 64} {
		data, _ := sampleFile(f, align)
		f.Add(data)
	}
	w := NewWriter()
	w.Set("general.architecture", "llama")
	w.Set("a", []any{[]string{"x", "y"}, []uint16{1}})
	var meta bytes.Buffer
	if _, err := w.WriteTo(&meta); err != nil {
		f.Fatal(err)
	}
	f.Add(meta.Bytes())
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	story, err := os.ReadFile(stories(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(story)
	// A prefix of a vocab file: its metadata types without 700 KB per input.
	spm, err := os.ReadFile(filepath.Join(filepath.Dir(vocabFiles(f)[0]), "ggml-vocab-llama-spm.gguf"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(spm[:16<<10])

	f.Fuzz(func(t *testing.T, data []byte) {
		before := heapAllocs()
		file, err := readBytes(data)
		if got := heapAllocs() - before; got > allocLimit(len(data)) {
			t.Fatalf("Read of %d bytes allocated %d bytes", len(data), got)
		}
		before = heapAllocs()
		sfile, serr := ReadHeader(bytes.NewReader(data))
		if got := heapAllocs() - before; got > allocLimit(len(data)) {
			t.Fatalf("ReadHeader of %d bytes allocated %d bytes", len(data), got)
		}
		if err != nil {
			return
		}
		// What Read accepts, streaming accepts identically.
		if serr != nil {
			t.Fatalf("Read accepted what ReadHeader rejects: %v", serr)
		}
		if sfile.DataOffset != file.DataOffset || len(sfile.KV) != len(file.KV) || len(sfile.Tensors) != len(file.Tensors) {
			t.Fatalf("Read and ReadHeader disagree")
		}
		r := bytes.NewReader(data)
		for _, ti := range file.Tensors {
			if _, err := file.ReadTensor(r, ti); err != nil {
				t.Fatalf("tensor %q accepted by Read is unreadable: %v", ti.Name, err)
			}
		}
		// Writing what was read and reading it back is a fixed point.
		w1 := rewriteFuzz(t, r, file)
		f1, err := readBytes(w1)
		if err != nil {
			t.Fatalf("rewritten file does not read: %v", err)
		}
		w2 := rewriteFuzz(t, bytes.NewReader(w1), f1)
		if !bytes.Equal(w1, w2) {
			t.Fatalf("rewrite is not stable")
		}
	})
}

func rewriteFuzz(t *testing.T, r io.ReaderAt, f *File) []byte {
	w := NewWriter()
	for _, kv := range f.KV {
		w.Set(kv.Key, kv.Value)
	}
	for _, ti := range f.Tensors {
		data, err := f.ReadTensor(r, ti)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddTensor(ti.Name, ti.Shape, ti.Type, data); err != nil {
			t.Fatalf("writer refuses a tensor Read accepted: %v", err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatalf("writer refuses metadata Read accepted: %v", err)
	}
	return buf.Bytes()
}
