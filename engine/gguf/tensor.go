package gguf

import (
	"fmt"
	"io"
	"math"
)

// TensorSection returns a reader over t's data in r, the file f was read from.
func (f *File) TensorSection(r io.ReaderAt, t TensorInfo) (*io.SectionReader, error) {
	n, err := t.Bytes()
	if err != nil {
		return nil, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	if t.Offset > uint64(math.MaxInt64-f.DataOffset) || n > math.MaxInt64-f.DataOffset-int64(t.Offset) {
		return nil, fmt.Errorf("gguf: tensor %q: offset %d and size %d overflow", t.Name, t.Offset, n)
	}
	return io.NewSectionReader(r, f.DataOffset+int64(t.Offset), n), nil
}

// ReadTensor reads t's data from r, the file f was read from.
func (f *File) ReadTensor(r io.ReaderAt, t TensorInfo) ([]byte, error) {
	s, err := f.TensorSection(r, t)
	if err != nil {
		return nil, err
	}
	b := make([]byte, s.Size())
	// A ReaderAt may return io.EOF with a full read at the end of the file.
	if n, err := s.ReadAt(b, 0); n < len(b) {
		return nil, fmt.Errorf("gguf: tensor %q: reading %d bytes at offset %d: %w", t.Name, len(b), f.DataOffset+int64(t.Offset), err)
	}
	return b, nil
}
