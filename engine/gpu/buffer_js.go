//go:build js && wasm

package gpu

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/hack-pad/safejs"
)

// Buffer is a GPUBuffer.
type Buffer struct {
	Label string
	Size  uint64 // requested size; the allocation is rounded up to 4 bytes
	Usage BufferUsage
	v     safejs.Value
}

// CreateBuffer allocates a buffer of size bytes (rounded up to a multiple of
// 4, as mapping and writeBuffer require). Allocation errors surface through
// Scope.
func (d *Device) CreateBuffer(label string, size uint64, usage BufferUsage) (*Buffer, error) {
	v, err := d.device.Call("createBuffer", map[string]any{
		"label": label,
		"size":  float64(AlignUp(max(size, 4), 4)),
		"usage": int(usage),
	})
	if err != nil {
		return nil, fmt.Errorf("gpu: createBuffer %q (%d bytes): %w", label, size, err)
	}
	return &Buffer{Label: label, Size: size, Usage: usage, v: v}, nil
}

// CreateBufferFrom allocates a buffer holding data (usage gains COPY_DST).
func (d *Device) CreateBufferFrom(label string, data []byte, usage BufferUsage) (*Buffer, error) {
	b, err := d.CreateBuffer(label, uint64(len(data)), usage|UsageCopyDst)
	if err != nil {
		return nil, err
	}
	if err := d.WriteBuffer(b, 0, data); err != nil {
		b.Destroy()
		return nil, err
	}
	return b, nil
}

// WriteBuffer queues a write of data at offset (both multiples of 4; a
// shorter tail is zero-padded).
func (d *Device) WriteBuffer(b *Buffer, offset uint64, data []byte) error {
	if offset%4 != 0 {
		return fmt.Errorf("gpu: WriteBuffer %q: offset %d is not a multiple of 4", b.Label, offset)
	}
	if pad := len(data) % 4; pad != 0 {
		data = append(data[:len(data):len(data)], make([]byte, 4-pad)...)
	}
	arr, err := webjs.BytesToJS(data)
	if err != nil {
		return err
	}
	if _, err := d.queue.Call("writeBuffer", b.v, float64(offset), arr); err != nil {
		return fmt.Errorf("gpu: writeBuffer %q: %w", b.Label, err)
	}
	return nil
}

// ReadBuffer copies size bytes at offset of b (which needs COPY_SRC) into a
// staging buffer, waits for the GPU and returns them. Only the requested
// range is returned, never the padded allocation.
func (d *Device) ReadBuffer(ctx context.Context, b *Buffer, offset, size uint64) ([]byte, error) {
	if offset%4 != 0 {
		return nil, fmt.Errorf("gpu: ReadBuffer %q: offset %d is not a multiple of 4", b.Label, offset)
	}
	if offset+size > b.Size {
		return nil, fmt.Errorf("gpu: ReadBuffer %q: range %d+%d exceeds size %d", b.Label, offset, size, b.Size)
	}
	padded := AlignUp(max(size, 4), 4)
	staging, err := d.CreateBuffer(b.Label+" readback", padded, UsageMapRead|UsageCopyDst)
	if err != nil {
		return nil, err
	}
	defer staging.Destroy()
	enc := d.NewEncoder("readback")
	enc.CopyBuffer(b, offset, staging, 0, padded)
	if err := enc.Submit(); err != nil {
		return nil, err
	}
	p, err := staging.v.Call("mapAsync", 1 /* GPUMapMode.READ */)
	if err != nil {
		return nil, fmt.Errorf("gpu: mapAsync %q: %w", b.Label, err)
	}
	if _, err := webjs.AwaitContext(ctx, p); err != nil {
		return nil, fmt.Errorf("gpu: mapAsync %q: %w", b.Label, err)
	}
	ab, err := staging.v.Call("getMappedRange")
	if err != nil {
		return nil, fmt.Errorf("gpu: getMappedRange %q: %w", b.Label, err)
	}
	data, err := webjs.BytesFromJS(ab)
	_, _ = staging.v.Call("unmap")
	if err != nil {
		return nil, err
	}
	return data[:size], nil
}

// Destroy frees the buffer's memory. Work already submitted that uses it must
// have completed (see Device.Done).
func (b *Buffer) Destroy() { _, _ = b.v.Call("destroy") }

// Value returns the underlying GPUBuffer.
func (b *Buffer) Value() safejs.Value { return b.v }

// Binding binds the whole buffer.
func (b *Buffer) Binding() Binding { return Binding{Buffer: b} }

// Done waits until the GPU finished all work submitted so far.
func (d *Device) Done(ctx context.Context) error {
	p, err := d.queue.Call("onSubmittedWorkDone")
	if err != nil {
		return fmt.Errorf("gpu: onSubmittedWorkDone: %w", err)
	}
	_, err = webjs.AwaitContext(ctx, p)
	return err
}
