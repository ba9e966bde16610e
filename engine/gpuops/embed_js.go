//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
)

// Embed gathers rows of a packed {hidden, vocab} table.
type Embed struct {
	c *Context
	k *kernel
	t dtype.DType
}

// NewEmbed compiles the gather for tables of dtype t.
func NewEmbed(ctx context.Context, c *Context, t dtype.DType) (*Embed, error) {
	k, err := c.compile(ctx, shader{kernel: "embed", params: embedParams{}, weight: t, hasWeight: true},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	return &Embed{c: c, k: k, t: t}, nil
}

// Prepare gathers rows ids (int32, read at element idsOff of the ids
// binding, e.g. a per-step buffer the sampler writes) from table into out
// [rows, hidden] activations, multiplied by scale (1 for none; Gemma's
// sqrt(hidden)). Ids outside the vocabulary leave their output row as it was.
func (e *Embed) Prepare(table Weight, ids gpu.Binding, idsOff int, out gpu.Binding, rows int, scale float32) (*Dispatch, error) {
	if table.DType != e.t {
		return nil, fmt.Errorf("gpuops: embed compiled for %v, table is %v", e.t, table.DType)
	}
	chunks, err := e.c.chunks(table)
	if err != nil {
		return nil, err
	}
	unit := unitOf(e.t)
	units := table.In / unit
	d := &Dispatch{Label: "embed"}
	for _, ch := range chunks {
		p := embedParams{
			Hidden: uint32(table.In), Rows: uint32(rows), Units: uint32(units), RowBytes: uint32(table.RowBytes()),
			WBase: ch.wbase, RowStart: uint32(ch.rowStart), RowCount: uint32(ch.rows), IdsOff: uint32(idsOff), Scale: scale,
		}
		if err := d.add(e.k, p, groupsFor(rows*units), ch.binding, ids, out); err != nil {
			d.Release()
			return nil, err
		}
	}
	return d, nil
}
