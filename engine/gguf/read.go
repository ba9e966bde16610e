package gguf

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"

	"github.com/doppler-engine/doppler/engine/dtype"
)

// Read parses the header of a GGUF file of the given size and checks every
// tensor's type, shape, alignment and extent against the file.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("gguf: negative file size %d", size)
	}
	// The buffer is no larger than the file so tiny inputs stay cheap.
	d := &decoder{r: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), int(min(size, 64<<10))), size: size}
	f, err := d.header()
	if err != nil {
		return nil, err
	}
	if err := f.checkTensors(size); err != nil {
		return nil, err
	}
	return f, nil
}

// ReadFile is Read of the file at path.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Read(f, st.Size())
}

// ReadHeader parses a GGUF header from a stream and consumes exactly
// f.DataOffset bytes (header and padding), so the tensor data follows in r.
// Without the file size it cannot check that tensors lie inside the file;
// everything else is checked as in Read.
func ReadHeader(r io.Reader) (*File, error) {
	d := &decoder{r: r, size: -1}
	f, err := d.header()
	if err != nil {
		return nil, err
	}
	if err := f.checkTensors(-1); err != nil {
		return nil, err
	}
	if pad := f.DataOffset - d.pos; pad > 0 {
		if _, err := d.bytes(uint64(pad), "padding"); err != nil {
			return nil, fmt.Errorf("gguf: padding before tensor data: %w", err)
		}
	}
	return f, nil
}

func (d *decoder) header() (*File, error) {
	magic, err := d.fixed(4)
	if err != nil {
		return nil, fmt.Errorf("gguf: file too short for a GGUF header: %w", err)
	}
	if string(magic) != Magic {
		return nil, fmt.Errorf("gguf: not a GGUF file (starts with %q, want %q)", magic, Magic)
	}
	version, err := d.u32()
	if err != nil {
		return nil, fmt.Errorf("gguf: reading version: %w", err)
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, fmt.Errorf("gguf: GGUF version 1 is not supported (only 2 and 3); reconvert the model with a current llama.cpp")
	case version&0xffff == 0 && (bits.ReverseBytes32(version) == 2 || bits.ReverseBytes32(version) == 3):
		return nil, fmt.Errorf("gguf: big-endian GGUF (version %d byte-swapped) is not supported; use a little-endian file", bits.ReverseBytes32(version))
	default:
		return nil, fmt.Errorf("gguf: unsupported GGUF version %d (only 2 and 3)", version)
	}
	f := &File{Version: version, Alignment: DefaultAlignment}

	nTensors, err := d.u64()
	if err != nil {
		return nil, fmt.Errorf("gguf: reading tensor count: %w", err)
	}
	nKV, err := d.u64()
	if err != nil {
		return nil, fmt.Errorf("gguf: reading metadata count: %w", err)
	}
	// A key/value takes at least 13 bytes (key length, type, one byte);
	// a tensor info at least 24 (name length, dims count, type, offset).
	const minKV, minTensor = 8 + 4 + 1, 8 + 4 + 4 + 8
	if nKV > uint64(d.left()/minKV) || nTensors > uint64(d.left()/minTensor) ||
		nKV*minKV+nTensors*minTensor > uint64(d.left()) {
		return nil, fmt.Errorf("gguf: header claims %d metadata entries and %d tensors, more than the file's %d remaining bytes can hold", nKV, nTensors, d.left())
	}

	f.KV = make([]KV, 0, d.capFor(nKV))
	seen := make(map[string]bool, d.capFor(nKV))
	for i := uint64(0); i < nKV; i++ {
		kv, err := d.kv()
		if err != nil {
			if kv.Key != "" {
				return nil, fmt.Errorf("gguf: metadata %d %q: %w", i, kv.Key, err)
			}
			return nil, fmt.Errorf("gguf: metadata %d: %w", i, err)
		}
		if seen[kv.Key] {
			return nil, fmt.Errorf("gguf: metadata %d: duplicate key %q", i, kv.Key)
		}
		seen[kv.Key] = true
		f.KV = append(f.KV, kv)
	}
	if v, ok := f.Get(AlignmentKey); ok {
		a, ok := v.(uint32)
		if !ok {
			return nil, fmt.Errorf("gguf: %s is %T, want uint32", AlignmentKey, v)
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("gguf: %s = %d is not a power of two", AlignmentKey, a)
		}
		f.Alignment = int64(a)
	}

	f.Tensors = make([]TensorInfo, 0, d.capFor(nTensors))
	names := make(map[string]bool, d.capFor(nTensors))
	for i := uint64(0); i < nTensors; i++ {
		t, err := d.tensorInfo()
		if err != nil {
			if t.Name != "" {
				return nil, fmt.Errorf("gguf: tensor %d %q: %w", i, t.Name, err)
			}
			return nil, fmt.Errorf("gguf: tensor %d: %w", i, err)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("gguf: tensor %d: duplicate name %q", i, t.Name)
		}
		names[t.Name] = true
		f.Tensors = append(f.Tensors, t)
	}
	// Without tensors there is no data section, and llama.cpp writes no
	// padding (vocab-only files end right after the metadata).
	f.DataOffset = d.pos
	if len(f.Tensors) > 0 {
		f.DataOffset = alignUp(d.pos, f.Alignment)
	}
	return f, nil
}

func (d *decoder) kv() (KV, error) {
	key, err := d.str("key")
	if err != nil {
		return KV{}, fmt.Errorf("key: %w", err)
	}
	kv := KV{Key: key}
	t, err := d.u32()
	if err != nil {
		return kv, err
	}
	if !ValueType(t).Valid() {
		return kv, fmt.Errorf("unknown value type %d at offset %d", t, d.pos-4)
	}
	kv.Value, err = d.value(ValueType(t), 0)
	return kv, err
}

func (d *decoder) tensorInfo() (TensorInfo, error) {
	name, err := d.str("name")
	if err != nil {
		return TensorInfo{}, fmt.Errorf("name: %w", err)
	}
	t := TensorInfo{Name: name}
	nDims, err := d.u32()
	if err != nil {
		return t, err
	}
	if nDims > MaxDims {
		return t, fmt.Errorf("%d dimensions, at most %d allowed", nDims, MaxDims)
	}
	t.Shape = make([]int64, nDims)
	for j := range t.Shape {
		v, err := d.u64()
		if err != nil {
			return t, err
		}
		if v > math.MaxInt64 {
			return t, fmt.Errorf("dimension %d is %d, too large", j, v)
		}
		t.Shape[j] = int64(v)
	}
	typ, err := d.u32()
	if err != nil {
		return t, err
	}
	t.Type = dtype.DType(typ)
	if !t.Type.Known() {
		return t, fmt.Errorf("unknown tensor type %d", typ)
	}
	if t.Offset, err = d.u64(); err != nil {
		return t, err
	}
	if _, err := t.Bytes(); err != nil {
		return t, err
	}
	return t, nil
}

// checkTensors checks offsets: aligned, not overlapping, and (when size is
// known, i.e. not negative) inside the file.
func (f *File) checkTensors(size int64) error {
	type span struct {
		i          int
		start, end int64
	}
	spans := make([]span, len(f.Tensors))
	for i, t := range f.Tensors {
		n, err := t.Bytes()
		if err != nil {
			return fmt.Errorf("gguf: tensor %d %q: %w", i, t.Name, err)
		}
		if t.Offset%uint64(f.Alignment) != 0 {
			return fmt.Errorf("gguf: tensor %d %q: offset %d is not a multiple of the alignment %d", i, t.Name, t.Offset, f.Alignment)
		}
		if t.Offset > uint64(math.MaxInt64-f.DataOffset) || n > math.MaxInt64-f.DataOffset-int64(t.Offset) {
			return fmt.Errorf("gguf: tensor %d %q: offset %d and size %d overflow", i, t.Name, t.Offset, n)
		}
		start := f.DataOffset + int64(t.Offset)
		end := start + n
		if size >= 0 && start > size {
			return fmt.Errorf("gguf: tensor %d %q: offset %d past end of file (size %d)", i, t.Name, start, size)
		}
		if size >= 0 && end > size {
			return fmt.Errorf("gguf: tensor %d %q: %d bytes at offset %d run past end of file (size %d)", i, t.Name, n, start, size)
		}
		spans[i] = span{i, start, end}
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
	for k := 1; k < len(spans); k++ {
		p, c := spans[k-1], spans[k]
		if c.start < p.end {
			return fmt.Errorf("gguf: tensor %d %q (bytes %d-%d) overlaps tensor %d %q (bytes %d-%d)",
				c.i, f.Tensors[c.i].Name, c.start, c.end, p.i, f.Tensors[p.i].Name, p.start, p.end)
		}
	}
	return nil
}

func alignUp(n, a int64) int64 { return (n + a - 1) / a * a }
