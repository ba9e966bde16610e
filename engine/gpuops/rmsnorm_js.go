//go:build js && wasm

package gpuops

import (
	"context"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// RMSNorm normalizes rows and multiplies by an f32 weight (w, or 1 + w with
// OnePlus), plain or fused with the residual add before it.
type RMSNorm struct {
	c               *Context
	plain, add, pre *kernel
}

// NormParams are one norm's static settings.
type NormParams struct {
	Rows, N int
	Eps     float32
	OnePlus bool // multiply by 1 + w (Gemma weights stored raw)
}

func (p NormParams) uniform() normParams {
	var one uint32
	if p.OnePlus {
		one = 1
	}
	return normParams{N: uint32(p.N), Rows: uint32(p.Rows), Eps: p.Eps, AddOne: one}
}

// NewRMSNorm compiles the three variants.
func NewRMSNorm(ctx context.Context, c *Context) (*RMSNorm, error) {
	plain, err := c.compile(ctx, shader{kernel: "rmsnorm", params: normParams{}, reduce: true},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	add, err := c.compile(ctx, shader{kernel: "rmsnorm_add", params: normParams{}, reduce: true, libs: []string{"norm_rows"}},
		gpu.Uniform, gpu.Storage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	pre, err := c.compile(ctx, shader{kernel: "rmsnorm_add_pre", params: normParams{}, reduce: true, libs: []string{"norm_rows"}},
		gpu.Uniform, gpu.Storage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	return &RMSNorm{c: c, plain: plain, add: add, pre: pre}, nil
}

// Prepare normalizes x [Rows, N] into out (which may not alias x); w holds
// N f32 values. Per-head norms (q_norm, k_norm) are Rows = rows*heads,
// N = head_dim.
func (n *RMSNorm) Prepare(x, w, out gpu.Binding, p NormParams) (*Dispatch, error) {
	d := &Dispatch{Label: "rmsnorm"}
	if err := d.add(n.plain, p.uniform(), uint32(p.Rows), x, w, out); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}

// PrepareAdd updates the residual stream in place, a = a + b, and writes
// out = norm(a) * w in the same pass (WebGPU forbids binding one buffer as
// both read-only and writable, hence in place). out must not alias a or b.
func (n *RMSNorm) PrepareAdd(a, b, w, out gpu.Binding, p NormParams) (*Dispatch, error) {
	d := &Dispatch{Label: "rmsnorm_add"}
	if err := d.add(n.add, p.uniform(), uint32(p.Rows), a, b, w, out); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}

// PrepareNormAdd is a norm of b, the residual add and a norm of the sum in
// one pass (Gemma's post-norms): a = a + norm(b)·w1 in place, out =
// norm(a)·w2. The same eps serves both norms; OnePlus applies to w2.
func (n *RMSNorm) PrepareNormAdd(a, b, w1, w2, out gpu.Binding, p NormParams) (*Dispatch, error) {
	d := &Dispatch{Label: "rmsnorm_add_pre"}
	if err := d.add(n.pre, p.uniform(), uint32(p.Rows), a, b, w1, w2, out); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}
