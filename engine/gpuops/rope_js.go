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
	c  *Context
	k  *kernel
	qk *kernel // rope_qk.wgsl, compiled on first use
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
	d := &Dispatch{Label: "rope"}
	dim, fb, err := r.freqs(d, headDim, cfg)
	if err != nil {
		return nil, err
	}
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

// freqs makes the dispatch's buffer of rotation angles per position.
func (r *Rope) freqs(d *Dispatch, headDim int, cfg RopeConfig) (int, *gpu.Buffer, error) {
	dim := cfg.Dim
	if dim == 0 {
		dim = headDim
	}
	if dim > headDim {
		return 0, nil, fmt.Errorf("gpuops: rope of %d dims on heads of %d", dim, headDim)
	}
	freqs, err := ropeFreqs(cfg, dim)
	if err != nil {
		return 0, nil, err
	}
	raw := make([]byte, 4*len(freqs))
	for i, f := range freqs {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	fb, err := r.c.Dev.CreateBufferFrom("rope freqs", raw, gpu.UsageStorage)
	if err != nil {
		return 0, nil, err
	}
	d.owned = append(d.owned, fb)
	return dim, fb, nil
}

// QKNorm is the optional per-head RMSNorm PrepareQK runs before rotating:
// f32 weights of head_dim values for queries and for keys.
type QKNorm struct {
	Q, K gpu.Binding
	Eps  float32
}

// PrepareQK rotates queries q [rows, qHeads, headDim] and keys k [rows,
// kHeads, headDim] in place in one launch, each head RMS-normed first when
// norm is non-nil (its output rounded to the activation type, as Prepare
// after a separate norm would see it).
func (r *Rope) PrepareQK(ctx context.Context, q, k, pos gpu.Binding, posOff, rows, qHeads, kHeads, headDim int, cfg RopeConfig, norm *QKNorm) (*Dispatch, error) {
	if r.qk == nil {
		var err error
		if r.qk, err = r.c.compile(ctx, shader{kernel: "rope_qk", params: ropeQKParams{}, reduce: true},
			gpu.Uniform, gpu.Storage, gpu.Storage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage); err != nil {
			return nil, err
		}
	}
	d := &Dispatch{Label: "rope_qk"}
	dim, fb, err := r.freqs(d, headDim, cfg)
	if err != nil {
		return nil, err
	}
	p := ropeQKParams{Rows: uint32(rows), QHeads: uint32(qHeads), KHeads: uint32(kHeads), HeadDim: uint32(headDim),
		Half: uint32(dim / 2), PosOff: uint32(posOff)}
	if cfg.Neox {
		p.Neox = 1
	}
	qn, kn := fb.Binding(), fb.Binding() // unread without a norm
	if norm != nil {
		p.Norm, p.Eps, qn, kn = 1, norm.Eps, norm.Q, norm.K
	}
	if err := d.add(r.qk, p, uint32(rows*(qHeads+kHeads)), q, k, pos, fb.Binding(), qn, kn); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}
