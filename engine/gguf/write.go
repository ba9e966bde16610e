package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/doppler-engine/doppler/engine/dtype"
)

// Writer builds a GGUF v3 file: metadata in insertion order, then tensor
// infos and data in the order added, each tensor aligned to the file's
// alignment and followed by zero padding (llama.cpp's layout, so a file read
// and written back is byte-identical).
type Writer struct {
	kv      []KV
	tensors []wtensor
	names   map[string]bool
	err     error // first error of Set, reported by WriteTo
}

type wtensor struct {
	info  TensorInfo
	size  int64
	data  []byte
	write func(io.Writer) error
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer { return &Writer{names: map[string]bool{}} }

// Set adds a metadata key, or replaces its value in place. The value's Go
// type chooses the GGUF type, exactly as Read returns them (see KV); int,
// uint and other types without a fixed GGUF size are rejected: the error is
// reported by WriteTo (and Err), since Set is meant to be chained freely.
func (w *Writer) Set(key string, value any) {
	if _, err := TypeOf(value); err != nil && w.err == nil {
		w.err = fmt.Errorf("gguf: metadata %q: %w", key, err)
	}
	for i := range w.kv {
		if w.kv[i].Key == key {
			w.kv[i].Value = value
			return
		}
	}
	w.kv = append(w.kv, KV{key, value})
}

// Delete removes a metadata key if present.
func (w *Writer) Delete(key string) {
	for i := range w.kv {
		if w.kv[i].Key == key {
			w.kv = append(w.kv[:i], w.kv[i+1:]...)
			return
		}
	}
}

// Err returns the first error recorded by Set.
func (w *Writer) Err() error { return w.err }

// AddTensor appends a tensor whose data is held in memory.
func (w *Writer) AddTensor(name string, shape []int64, typ dtype.DType, data []byte) error {
	t, err := w.add(name, shape, typ)
	if err != nil {
		return err
	}
	if int64(len(data)) != t.size {
		return fmt.Errorf("gguf: tensor %q: %d bytes of data, shape %v of %s needs %d", name, len(data), shape, typ, t.size)
	}
	t.data = data
	w.tensors = append(w.tensors, t)
	return nil
}

// AddTensorFunc appends a tensor whose data write produces when the file is
// written; it must write exactly the size its shape and type imply.
func (w *Writer) AddTensorFunc(name string, shape []int64, typ dtype.DType, write func(io.Writer) error) error {
	if write == nil {
		return fmt.Errorf("gguf: tensor %q: nil write function", name)
	}
	t, err := w.add(name, shape, typ)
	if err != nil {
		return err
	}
	t.write = write
	w.tensors = append(w.tensors, t)
	return nil
}

func (w *Writer) add(name string, shape []int64, typ dtype.DType) (wtensor, error) {
	if w.names == nil {
		w.names = map[string]bool{}
	}
	switch {
	case name == "":
		return wtensor{}, errors.New("gguf: tensor with an empty name")
	case w.names[name]:
		return wtensor{}, fmt.Errorf("gguf: tensor %q added twice", name)
	case len(shape) > MaxDims:
		return wtensor{}, fmt.Errorf("gguf: tensor %q: %d dimensions, at most %d allowed", name, len(shape), MaxDims)
	case !typ.Known():
		return wtensor{}, fmt.Errorf("gguf: tensor %q: unknown tensor type %d", name, uint32(typ))
	}
	info := TensorInfo{Name: name, Shape: append([]int64(nil), shape...), Type: typ}
	n, err := info.Bytes()
	if err != nil {
		return wtensor{}, fmt.Errorf("gguf: tensor %q: %w", name, err)
	}
	w.names[name] = true
	return wtensor{info: info, size: n}, nil
}

// alignment is general.alignment if set (it must be a uint32 power of two).
func (w *Writer) alignment() (int64, error) {
	for _, kv := range w.kv {
		if kv.Key != AlignmentKey {
			continue
		}
		a, ok := kv.Value.(uint32)
		if !ok {
			return 0, fmt.Errorf("gguf: %s is %T, want uint32", AlignmentKey, kv.Value)
		}
		if a == 0 || a&(a-1) != 0 {
			return 0, fmt.Errorf("gguf: %s = %d is not a power of two", AlignmentKey, a)
		}
		return int64(a), nil
	}
	return DefaultAlignment, nil
}

// WriteTo writes the whole file to dst.
func (w *Writer) WriteTo(dst io.Writer) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	align, err := w.alignment()
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: dst}
	bw := bufio.NewWriterSize(cw, 64<<10)
	e := &encoder{w: bw}
	e.raw([]byte(Magic))
	e.u32(3)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kv)))
	for _, kv := range w.kv {
		e.str(kv.Key)
		if err := e.typedValue(kv.Value); err != nil {
			return cw.n, fmt.Errorf("gguf: metadata %q: %w", kv.Key, err)
		}
	}
	var offset int64
	for _, t := range w.tensors {
		e.str(t.info.Name)
		e.u32(uint32(len(t.info.Shape)))
		for _, d := range t.info.Shape {
			e.u64(uint64(d))
		}
		e.u32(uint32(t.info.Type))
		e.u64(uint64(offset))
		offset = alignUp(offset+t.size, align)
	}
	if e.err != nil {
		return cw.n, e.err
	}
	if len(w.tensors) > 0 {
		e.pad(align)
	}
	for _, t := range w.tensors {
		if t.write != nil {
			lw := &countWriter{w: bw}
			if err := t.write(lw); err != nil {
				return cw.n, fmt.Errorf("gguf: tensor %q: %w", t.info.Name, err)
			}
			if lw.n != t.size {
				return cw.n, fmt.Errorf("gguf: tensor %q: writer produced %d bytes, want %d", t.info.Name, lw.n, t.size)
			}
			e.pos += lw.n
		} else {
			e.raw(t.data)
		}
		e.pad(align)
		if e.err != nil {
			return cw.n, e.err
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// encoder writes little-endian fields, keeping the first error and the
// number of bytes written (for padding).
type encoder struct {
	w   io.Writer
	pos int64
	err error
	buf [8]byte
}

func (e *encoder) raw(p []byte) {
	if e.err != nil {
		return
	}
	n, err := e.w.Write(p)
	e.pos += int64(n)
	e.err = err
}

func (e *encoder) u8(v uint8)   { e.buf[0] = v; e.raw(e.buf[:1]) }
func (e *encoder) u16(v uint16) { binary.LittleEndian.PutUint16(e.buf[:], v); e.raw(e.buf[:2]) }
func (e *encoder) u32(v uint32) { binary.LittleEndian.PutUint32(e.buf[:], v); e.raw(e.buf[:4]) }
func (e *encoder) u64(v uint64) { binary.LittleEndian.PutUint64(e.buf[:], v); e.raw(e.buf[:8]) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.raw([]byte(s)) }

var zeros [256]byte

func (e *encoder) pad(align int64) {
	for n := alignUp(e.pos, align) - e.pos; n > 0 && e.err == nil; {
		k := min(n, int64(len(zeros)))
		e.raw(zeros[:k])
		n -= k
	}
}

func (e *encoder) typedValue(v any) error {
	t, err := TypeOf(v)
	if err != nil {
		return err
	}
	e.u32(uint32(t))
	return e.value(v)
}

func (e *encoder) value(v any) error {
	switch x := v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case bool:
		if x {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case string:
		e.str(x)
	case []uint8:
		e.arrayHeader(Uint8, len(x))
		e.raw(x)
	case []int8:
		e.arrayHeader(Int8, len(x))
		for _, y := range x {
			e.u8(uint8(y))
		}
	case []uint16:
		writeArray(e, Uint16, x)
	case []int16:
		writeArray(e, Int16, x)
	case []uint32:
		writeArray(e, Uint32, x)
	case []int32:
		writeArray(e, Int32, x)
	case []float32:
		writeArray(e, Float32, x)
	case []uint64:
		writeArray(e, Uint64, x)
	case []int64:
		writeArray(e, Int64, x)
	case []float64:
		writeArray(e, Float64, x)
	case []bool:
		writeArray(e, Bool, x)
	case []string:
		writeArray(e, String, x)
	case []any:
		e.arrayHeader(Array, len(x))
		for i, y := range x {
			t, err := TypeOf(y)
			if err != nil {
				return fmt.Errorf("array element %d: %w", i, err)
			}
			if t != Array {
				return fmt.Errorf("array element %d is %T: []any holds only arrays (use a typed slice for an array of scalars)", i, y)
			}
			if err := e.value(y); err != nil {
				return fmt.Errorf("array element %d: %w", i, err)
			}
		}
	default:
		return fmt.Errorf("unsupported value type %T", v)
	}
	return nil
}

func (e *encoder) arrayHeader(t ValueType, n int) {
	e.u32(uint32(t))
	e.u64(uint64(n))
}

func writeArray[T any](e *encoder, t ValueType, xs []T) {
	e.arrayHeader(t, len(xs))
	for _, x := range xs {
		_ = e.value(x) // scalar types cannot fail
	}
}

// TypeOf returns the GGUF type Writer uses for a Go value (see KV).
// Arrays of arrays ([]any) are checked element by element.
func TypeOf(v any) (ValueType, error) {
	switch x := v.(type) {
	case uint8:
		return Uint8, nil
	case int8:
		return Int8, nil
	case uint16:
		return Uint16, nil
	case int16:
		return Int16, nil
	case uint32:
		return Uint32, nil
	case int32:
		return Int32, nil
	case float32:
		return Float32, nil
	case uint64:
		return Uint64, nil
	case int64:
		return Int64, nil
	case float64:
		return Float64, nil
	case bool:
		return Bool, nil
	case string:
		return String, nil
	case []uint8, []int8, []uint16, []int16, []uint32, []int32, []float32,
		[]uint64, []int64, []float64, []bool, []string:
		return Array, nil
	case []any:
		for i, y := range x {
			t, err := TypeOf(y)
			if err != nil {
				return 0, fmt.Errorf("array element %d: %w", i, err)
			}
			if t != Array {
				return 0, fmt.Errorf("array element %d is %T: []any holds only arrays (use a typed slice for an array of scalars)", i, y)
			}
		}
		return Array, nil
	case int, uint, uintptr:
		return 0, fmt.Errorf("unsupported value type %T: use a sized type (int32, uint32, int64, uint64, ...)", v)
	}
	return 0, fmt.Errorf("unsupported value type %T", v)
}
