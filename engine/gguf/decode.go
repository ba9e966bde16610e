package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// maxNesting bounds arrays of arrays; real files nest at most once, and a
// stream of unknown length needs some bound on recursion.
const maxNesting = 32

// decoder reads little-endian GGUF fields and tracks its position. When the
// file size is known every length and count is checked against the bytes
// left before anything is allocated; when it is not (streaming), buffers grow
// only as data actually arrives.
type decoder struct {
	r    io.Reader
	pos  int64
	size int64 // -1 when unknown
	buf  [8]byte
}

var errTruncated = errors.New("unexpected end of file")

func (d *decoder) left() int64 {
	if d.size < 0 {
		return math.MaxInt64
	}
	return d.size - d.pos
}

func (d *decoder) full(p []byte) error {
	n, err := io.ReadFull(d.r, p)
	d.pos += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w at offset %d", errTruncated, d.pos)
	}
	return err
}

func (d *decoder) fixed(n int) ([]byte, error) {
	if int64(n) > d.left() {
		return nil, fmt.Errorf("%w at offset %d", errTruncated, d.pos)
	}
	if err := d.full(d.buf[:n]); err != nil {
		return nil, err
	}
	return d.buf[:n], nil
}

func (d *decoder) u8() (uint8, error) {
	b, err := d.fixed(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *decoder) u16() (uint16, error) {
	b, err := d.fixed(2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (d *decoder) u32() (uint32, error) {
	b, err := d.fixed(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64() (uint64, error) {
	b, err := d.fixed(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// bytes reads n bytes, refusing lengths the rest of the file cannot hold.
func (d *decoder) bytes(n uint64, what string) ([]byte, error) {
	if n > uint64(d.left()) {
		return nil, fmt.Errorf("%s of %d bytes at offset %d runs past the end of the file (%d bytes left)", what, n, d.pos, d.left())
	}
	if d.size >= 0 || n <= 64<<10 {
		b := make([]byte, n)
		if err := d.full(b); err != nil {
			return nil, err
		}
		return b, nil
	}
	// Unknown size: let the buffer grow with the data that really arrives.
	var buf bytes.Buffer
	m, err := buf.ReadFrom(io.LimitReader(d.r, int64(n)))
	d.pos += m
	if err != nil {
		return nil, err
	}
	if uint64(m) != n {
		return nil, fmt.Errorf("%w at offset %d (%s of %d bytes)", errTruncated, d.pos, what, n)
	}
	return buf.Bytes(), nil
}

func (d *decoder) str(what string) (string, error) {
	n, err := d.u64()
	if err != nil {
		return "", err
	}
	b, err := d.bytes(n, what)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// count reads an element count and checks that count elements of at least
// minSize bytes each fit in the rest of the file.
func (d *decoder) count(minSize int64, what string) (uint64, error) {
	n, err := d.u64()
	if err != nil {
		return 0, err
	}
	if n > uint64(d.left()/minSize) {
		return 0, fmt.Errorf("%s count %d at offset %d cannot fit in the rest of the file (%d bytes left)", what, n, d.pos-8, d.left())
	}
	return n, nil
}

// capFor is the initial capacity of a slice of n elements: exact when the
// count was checked against the file size, small when streaming.
func (d *decoder) capFor(n uint64) int {
	if d.size < 0 && n > 64 {
		return 64
	}
	return int(n)
}

func (d *decoder) value(t ValueType, depth int) (any, error) {
	switch t {
	case Uint8:
		return d.u8()
	case Int8:
		v, err := d.u8()
		return int8(v), err
	case Uint16:
		return d.u16()
	case Int16:
		v, err := d.u16()
		return int16(v), err
	case Uint32:
		return d.u32()
	case Int32:
		v, err := d.u32()
		return int32(v), err
	case Float32:
		v, err := d.u32()
		return math.Float32frombits(v), err
	case Uint64:
		return d.u64()
	case Int64:
		v, err := d.u64()
		return int64(v), err
	case Float64:
		v, err := d.u64()
		return math.Float64frombits(v), err
	case Bool:
		v, err := d.u8()
		if err != nil {
			return nil, err
		}
		if v > 1 {
			return nil, fmt.Errorf("bool value %d at offset %d is neither 0 nor 1", v, d.pos-1)
		}
		return v == 1, nil
	case String:
		return d.str("string")
	case Array:
		return d.array(depth)
	}
	return nil, fmt.Errorf("unknown value type %d at offset %d", uint32(t), d.pos)
}

func (d *decoder) array(depth int) (any, error) {
	if depth >= maxNesting {
		return nil, fmt.Errorf("arrays nested more than %d deep at offset %d", maxNesting, d.pos)
	}
	et, err := d.u32()
	if err != nil {
		return nil, err
	}
	t := ValueType(et)
	if !t.Valid() {
		return nil, fmt.Errorf("unknown array element type %d at offset %d", et, d.pos-4)
	}
	n, err := d.count(t.minSize(), "array")
	if err != nil {
		return nil, err
	}
	switch t {
	case Uint8:
		return d.numbers(n, 1) // []byte is []uint8
	case Int8:
		b, err := d.bytes(n, "int8 array")
		if err != nil {
			return nil, err
		}
		out := make([]int8, len(b))
		for i, v := range b {
			out[i] = int8(v)
		}
		return out, nil
	case Bool:
		b, err := d.bytes(n, "bool array")
		if err != nil {
			return nil, err
		}
		out := make([]bool, len(b))
		for i, v := range b {
			if v > 1 {
				return nil, fmt.Errorf("bool array element %d is %d, neither 0 nor 1", i, v)
			}
			out[i] = v == 1
		}
		return out, nil
	case Uint16, Int16:
		b, err := d.numbers(n, 2)
		if err != nil {
			return nil, err
		}
		if t == Uint16 {
			return decodeSlice(b, 2, func(p []byte) uint16 { return binary.LittleEndian.Uint16(p) }), nil
		}
		return decodeSlice(b, 2, func(p []byte) int16 { return int16(binary.LittleEndian.Uint16(p)) }), nil
	case Uint32, Int32, Float32:
		b, err := d.numbers(n, 4)
		if err != nil {
			return nil, err
		}
		switch t {
		case Uint32:
			return decodeSlice(b, 4, func(p []byte) uint32 { return binary.LittleEndian.Uint32(p) }), nil
		case Int32:
			return decodeSlice(b, 4, func(p []byte) int32 { return int32(binary.LittleEndian.Uint32(p)) }), nil
		}
		return decodeSlice(b, 4, func(p []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(p)) }), nil
	case Uint64, Int64, Float64:
		b, err := d.numbers(n, 8)
		if err != nil {
			return nil, err
		}
		switch t {
		case Uint64:
			return decodeSlice(b, 8, func(p []byte) uint64 { return binary.LittleEndian.Uint64(p) }), nil
		case Int64:
			return decodeSlice(b, 8, func(p []byte) int64 { return int64(binary.LittleEndian.Uint64(p)) }), nil
		}
		return decodeSlice(b, 8, func(p []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(p)) }), nil
	case String:
		out := make([]string, 0, d.capFor(n))
		for i := uint64(0); i < n; i++ {
			s, err := d.str("string")
			if err != nil {
				return nil, fmt.Errorf("string array element %d: %w", i, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	// Array of arrays: each element carries its own element type.
	out := make([]any, 0, d.capFor(n))
	for i := uint64(0); i < n; i++ {
		v, err := d.array(depth + 1)
		if err != nil {
			return nil, fmt.Errorf("array element %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// numbers reads n fixed-size elements as raw bytes (n was already checked
// against the file size by count, so n*size cannot overflow there; streaming
// checks the product here).
func (d *decoder) numbers(n uint64, size uint64) ([]byte, error) {
	if n > math.MaxInt64/size {
		return nil, fmt.Errorf("array of %d elements at offset %d is too large", n, d.pos)
	}
	return d.bytes(n*size, "array")
}

func decodeSlice[T any](b []byte, size int, get func([]byte) T) []T {
	out := make([]T, len(b)/size)
	for i := range out {
		out[i] = get(b[i*size:])
	}
	return out
}
