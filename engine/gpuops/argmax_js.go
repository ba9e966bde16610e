//go:build js && wasm

package gpuops

import (
	"context"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// Argmax picks the largest logit of each row on the GPU (greedy sampling).
type Argmax struct {
	c            *Context
	pass1, final *kernel
}

// NewArgmax compiles both passes.
func NewArgmax(ctx context.Context, c *Context) (*Argmax, error) {
	p1, err := c.compile(ctx, shader{kernel: "argmax", params: argmaxParams{}}, gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	p2, err := c.compile(ctx, shader{kernel: "argmax_final", params: argmaxParams{}}, gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	return &Argmax{c: c, pass1: p1, final: p2}, nil
}

// Prepare writes the index of the largest of logits [rows, vocab] (ties:
// lowest index) as int32 to element outOff+r of out, e.g. the ids slot the
// next step's Embed reads.
func (a *Argmax) Prepare(logits, out gpu.Binding, outOff, rows, vocab int) (*Dispatch, error) {
	blocks := (vocab + argmaxBlock - 1) / argmaxBlock
	p := argmaxParams{Rows: uint32(rows), Vocab: uint32(vocab), Blocks: uint32(blocks), OutOff: uint32(outOff)}
	d := &Dispatch{Label: "argmax"}
	part, err := d.scratch(a.c, "partials", uint64(8*rows*blocks))
	if err != nil {
		return nil, err
	}
	if err := d.add(a.pass1, p, uint32(rows*blocks), logits, part.Binding()); err != nil {
		d.Release()
		return nil, err
	}
	if err := d.add(a.final, p, uint32(rows), part.Binding(), out); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}
