//go:build js && wasm

package gpuops

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// Rope rotates query/key heads in place at positions read from a buffer.
type Rope struct {
	c *Context
	k *kernel
}

// NewRope compiles the rotation.
func NewRope(ctx context.Context, c *Context) (*Rope, error) {
	k, err := c.compile(ctx, shader{kernel: "rope", params: ropeParams{}},
		gpu.Uniform, gpu.Storage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage)
	if err != nil {
		return nil, err
	}
	return &Rope{c: c, k: k}, nil
}

// Prepare rotates x [rows, heads, headDim] in place; row r's position is the
// int32 at element posOff+r of pos (the runtime's per-step buffer).
func (r *Rope) Prepare(x, pos gpu.Binding, posOff, rows, heads, headDim int, cfg RopeConfig) (*Dispatch, error) {
	dim := cfg.Dim
	if dim == 0 {
		dim = headDim
	}
	if dim > headDim {
		return nil, fmt.Errorf("gpuops: rope of %d dims on heads of %d", dim, headDim)
	}
	freqs, err := ropeFreqs(cfg, dim)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 4*len(freqs))
	for i, f := range freqs {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	d := &Dispatch{Label: "rope"}
	fb, err := r.c.Dev.CreateBufferFrom("rope freqs", raw, gpu.UsageStorage)
	if err != nil {
		return nil, err
	}
	d.owned = append(d.owned, fb)
	var neox uint32
	if cfg.Neox {
		neox = 1
	}
	p := ropeParams{Rows: uint32(rows), Heads: uint32(heads), HeadDim: uint32(headDim), Half: uint32(dim / 2), Neox: neox, PosOff: uint32(posOff)}
	if err := d.add(r.k, p, groupsFor(rows*heads*dim/2), x, pos, fb.Binding()); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}
