// Package safetensors reads Hugging Face safetensors files and folders of
// them (single file or shards with model.safetensors.index.json). Only the
// JSON header is parsed up front, with every tensor's dtype, shape and extent
// checked against the file; tensor data is read on demand.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// MaxHeaderSize bounds the JSON header (the reference implementation uses
// the same 100 MB limit).
const MaxHeaderSize = 100 << 20

// Tensor describes one tensor of a safetensors file.
type Tensor struct {
	Name  string
	DType string  // as in the file: "F32", "F16", "BF16", ...
	Shape []int64 // as in the file: row-major, outermost first
	// Offset and Size locate the data in File (Offset is absolute).
	Offset, Size int64
	File         string // the file holding it (its path in the folder's FS)
}

// Elements is the product of the shape (1 for a scalar).
func (t Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Header is a parsed safetensors header.
type Header struct {
	Metadata map[string]string
	Tensors  []Tensor // sorted by offset
	// DataOffset is where the data buffer starts (8 + header length).
	DataOffset int64
}

// Tensor finds a tensor by name.
func (h *Header) Tensor(name string) (Tensor, bool) {
	for _, t := range h.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// dtypeBits gives the storage width of every dtype safetensors defines.
var dtypeBits = map[string]int64{
	"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64,
	"C64": 64,
	"F4":  4, "F6_E2M3": 6, "F6_E3M2": 6,
}

// DTypeBits returns the bits per element of a safetensors dtype name.
func DTypeBits(dt string) (int64, bool) {
	b, ok := dtypeBits[dt]
	return b, ok
}

type rawTensor struct {
	DType       string    `json:"dtype"`
	Shape       []int64   `json:"shape"`
	DataOffsets *[2]int64 `json:"data_offsets"`
}

// ReadHeader parses and checks the header of a safetensors file of the given
// size: header length, JSON, dtypes, that each shape matches its byte range,
// that ranges lie in the file, and that no two overlap.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	var lenBuf [8]byte
	if size < 8 {
		return nil, fmt.Errorf("safetensors: file of %d bytes is too short for a header", size)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d-byte limit (not a safetensors file?)", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, fmt.Errorf("safetensors: header length %d runs past the end of the file (size %d)", n, size)
	}
	if n < 2 {
		return nil, fmt.Errorf("safetensors: header length %d is too short for a JSON object", n)
	}
	buf := make([]byte, n)
	if k, err := r.ReadAt(buf, 8); k < len(buf) {
		return nil, fmt.Errorf("safetensors: reading %d-byte header: %w", n, err)
	}
	h, err := parseHeader(buf, 8+int64(n), size)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return h, nil
}

// parseHeader decodes the JSON object key by key so duplicate names are
// caught (encoding/json would silently keep the last one).
func parseHeader(buf []byte, dataStart, size int64) (*Header, error) {
	if buf[0] != '{' {
		return nil, fmt.Errorf("header does not start with a JSON object (first byte %q)", buf[0])
	}
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("header JSON: %w", err)
	}
	h := &Header{DataOffset: dataStart}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("header JSON: %w", err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, fmt.Errorf("header: duplicate entry %q", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&h.Metadata); err != nil {
				return nil, fmt.Errorf("header __metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var rt rawTensor
		if err := dec.Decode(&rt); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				err = errors.New("header JSON ends early")
			}
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		t, err := checkTensor(name, rt, dataStart, size)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		h.Tensors = append(h.Tensors, t)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("header JSON: %w", err)
	}
	// Only whitespace may pad the header after the object.
	off := dec.InputOffset()
	for i, c := range buf[off:] {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return nil, fmt.Errorf("header: unexpected byte %q after the JSON object (header offset %d)", c, off+int64(i))
		}
	}
	sort.Slice(h.Tensors, func(a, b int) bool {
		if h.Tensors[a].Offset != h.Tensors[b].Offset {
			return h.Tensors[a].Offset < h.Tensors[b].Offset
		}
		return h.Tensors[a].Size < h.Tensors[b].Size
	})
	for i := 1; i < len(h.Tensors); i++ {
		p, c := h.Tensors[i-1], h.Tensors[i]
		if c.Offset < p.Offset+p.Size {
			return nil, fmt.Errorf("tensor %q (bytes %d-%d) overlaps tensor %q (bytes %d-%d)",
				c.Name, c.Offset, c.Offset+c.Size, p.Name, p.Offset, p.Offset+p.Size)
		}
	}
	return h, nil
}

func checkTensor(name string, rt rawTensor, dataStart, size int64) (Tensor, error) {
	if name == "" {
		return Tensor{}, errors.New("empty tensor name")
	}
	bits, ok := dtypeBits[rt.DType]
	if !ok {
		if rt.DType == "" {
			return Tensor{}, errors.New("missing dtype")
		}
		return Tensor{}, fmt.Errorf("unknown dtype %q", rt.DType)
	}
	if rt.Shape == nil {
		return Tensor{}, errors.New("missing shape")
	}
	if rt.DataOffsets == nil {
		return Tensor{}, errors.New("missing data_offsets")
	}
	n := int64(1)
	for _, d := range rt.Shape {
		if d < 0 {
			return Tensor{}, fmt.Errorf("negative dimension in shape %v", rt.Shape)
		}
		if d != 0 && n > math.MaxInt64/8/d {
			return Tensor{}, fmt.Errorf("shape %v is too large", rt.Shape)
		}
		n *= d
	}
	if n*bits%8 != 0 {
		return Tensor{}, fmt.Errorf("shape %v of %s is not a whole number of bytes", rt.Shape, rt.DType)
	}
	want := n * bits / 8
	begin, end := rt.DataOffsets[0], rt.DataOffsets[1]
	if begin < 0 || end < begin {
		return Tensor{}, fmt.Errorf("bad data_offsets [%d, %d]", begin, end)
	}
	if end-begin != want {
		return Tensor{}, fmt.Errorf("data_offsets [%d, %d] hold %d bytes, shape %v of %s needs %d", begin, end, end-begin, rt.Shape, rt.DType, want)
	}
	if end > size-dataStart {
		return Tensor{}, fmt.Errorf("data_offsets [%d, %d] run past the end of the file (data section is %d bytes)", begin, end, size-dataStart)
	}
	return Tensor{Name: name, DType: rt.DType, Shape: rt.Shape, Offset: dataStart + begin, Size: want}, nil
}
