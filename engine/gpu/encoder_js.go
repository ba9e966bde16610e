//go:build js && wasm

package gpu

import (
	"fmt"

	"github.com/hack-pad/safejs"
)

// Encoder records compute dispatches and copies into one command buffer.
// Consecutive dispatches share one compute pass. The first error sticks and
// is returned by Submit.
type Encoder struct {
	d    *Device
	enc  safejs.Value
	pass safejs.Value
	open bool
	err  error
	// timer, when set, times the next pass (TimePass); resolved at Submit.
	timer, timed *PassTimer
}

// NewEncoder starts a command encoder.
func (d *Device) NewEncoder(label string) *Encoder {
	e := &Encoder{d: d}
	e.enc, e.err = d.device.Call("createCommandEncoder", map[string]any{"label": label})
	return e
}

// Dispatch records pipeline p with groups (group i bound at index i) over
// x*y*z workgroups.
func (e *Encoder) Dispatch(p *ComputePipeline, groups []*BindGroup, x, y, z uint32) {
	if e.err != nil {
		return
	}
	if !e.open {
		var desc []any
		if e.timer != nil {
			desc = append(desc, map[string]any{"timestampWrites": map[string]any{
				"querySet": e.timer.set, "beginningOfPassWriteIndex": 0, "endOfPassWriteIndex": 1}})
			e.timed, e.timer = e.timer, nil
		}
		if e.pass, e.err = e.enc.Call("beginComputePass", desc...); e.err != nil {
			return
		}
		e.open = true
	}
	if _, e.err = e.pass.Call("setPipeline", p.v); e.err != nil {
		return
	}
	for i, g := range groups {
		if _, e.err = e.pass.Call("setBindGroup", i, g.v); e.err != nil {
			return
		}
	}
	_, e.err = e.pass.Call("dispatchWorkgroups", x, y, z)
}

// CopyBuffer records a copy of size bytes (a multiple of 4).
func (e *Encoder) CopyBuffer(src *Buffer, srcOffset uint64, dst *Buffer, dstOffset, size uint64) {
	if e.err != nil {
		return
	}
	e.endPass()
	if e.err != nil {
		return
	}
	_, e.err = e.enc.Call("copyBufferToBuffer", src.v, float64(srcOffset), dst.v, float64(dstOffset), float64(size))
}

func (e *Encoder) endPass() {
	if e.open {
		_, e.err = e.pass.Call("end")
		e.open = false
	}
}

// Submit finishes the command buffer and submits it to the queue. It does
// not wait for the GPU (see Device.Done, ReadBuffer); GPU-side errors show up
// through Device.Scope.
func (e *Encoder) Submit() error {
	e.endPass()
	if e.err == nil && e.timed != nil {
		_, e.err = e.enc.Call("resolveQuerySet", e.timed.set, 0, 2, e.timed.resolve.v, 0)
	}
	if e.err != nil {
		return fmt.Errorf("gpu: encoding: %w", e.err)
	}
	cb, err := e.enc.Call("finish")
	if err != nil {
		return fmt.Errorf("gpu: finish: %w", err)
	}
	if _, err := e.d.queue.Call("submit", []any{cb}); err != nil {
		return fmt.Errorf("gpu: submit: %w", err)
	}
	return nil
}
