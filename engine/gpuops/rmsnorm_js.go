//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"
	"sync"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// RMSNorm normalizes rows and multiplies by an f32 weight (w, or 1 + w with
// OnePlus), plain or fused with the residual add before it.
type RMSNorm struct {
	c               *Context
	plain, add, pre *kernel
	mu              sync.Mutex
	q8              map[string]*kernel // the variants storing 8-bit activations too, by kernel
}

// NormParams are one norm's static settings.
type NormParams struct {
	Rows, N int
	Eps     float32
	OnePlus bool // multiply by 1 + w (Gemma weights stored raw)
	// Q8Out, when set (a binding of Rows·Q8Bytes(N)), also gets the normed
	// rows as 8-bit activations, for a GEMV (PrepareQ8In) or tiled matmuls
	// (their xq) that read them: their quantize launch fewer.
	Q8Out gpu.Binding
}

// normEntries are the norm kernels' bindings after the params: x, w, out
// (rmsnorm); a, b, w, out (rmsnorm_add); a, b, w1, w2, out (rmsnorm_add_pre).
var normEntries = map[string][]gpu.BindingType{
	"rmsnorm":         {gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage},
	"rmsnorm_add":     {gpu.Storage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage},
	"rmsnorm_add_pre": {gpu.Storage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage},
}

// compileNorm compiles a norm kernel, with q8 the variant storing 8-bit
// activations too (kernels/norm_q8.wgsl, at the binding after its own).
func compileNorm(ctx context.Context, c *Context, name string, q8 bool) (*kernel, error) {
	sh := shader{kernel: name, params: normParams{}, reduce: true, libs: []string{"norm_plain"}}
	if name != "rmsnorm" {
		sh.libs = append(sh.libs, "norm_rows")
	}
	entries := append([]gpu.BindingType{gpu.Uniform}, normEntries[name]...)
	if q8 {
		sh.libs[0] = "norm_q8"
		sh.libs = append(sh.libs, "q8_quads")
		sh.consts = map[string]string{"Q8B": fmt.Sprintf("%du", len(entries))}
		entries = append(entries, gpu.Storage)
	}
	return c.compile(ctx, sh, entries...)
}

// prepare adds the launch of kernel k (name; its 8-bit variant with
// p.Q8Out) over binds.
func (n *RMSNorm) prepare(k *kernel, name string, p NormParams, binds ...gpu.Binding) (*Dispatch, error) {
	d := &Dispatch{Label: name}
	if p.Q8Out.Buffer != nil {
		if p.N%32 != 0 {
			return nil, fmt.Errorf("gpuops: 8-bit activations from a norm of rows of %d (a multiple of 32 needed)", p.N)
		}
		n.mu.Lock()
		var err error
		if k = n.q8[name]; k == nil {
			if k, err = compileNorm(context.Background(), n.c, name, true); err == nil {
				n.q8[name] = k
			}
		}
		n.mu.Unlock()
		if err != nil {
			return nil, err
		}
		binds = append(binds, p.Q8Out)
	}
	if err := d.add(k, p.uniform(), uint32(p.Rows), binds...); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
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
	plain, err := compileNorm(ctx, c, "rmsnorm", false)
	if err != nil {
		return nil, err
	}
	add, err := compileNorm(ctx, c, "rmsnorm_add", false)
	if err != nil {
		return nil, err
	}
	pre, err := compileNorm(ctx, c, "rmsnorm_add_pre", false)
	if err != nil {
		return nil, err
	}
	return &RMSNorm{c: c, plain: plain, add: add, pre: pre, q8: map[string]*kernel{}}, nil
}

// Prepare normalizes x [Rows, N] into out (which may not alias x); w holds
// N f32 values. Per-head norms (q_norm, k_norm) are Rows = rows*heads,
// N = head_dim.
func (n *RMSNorm) Prepare(x, w, out gpu.Binding, p NormParams) (*Dispatch, error) {
	return n.prepare(n.plain, "rmsnorm", p, x, w, out)
}

// PrepareAdd updates the residual stream in place, a = a + b, and writes
// out = norm(a) * w in the same pass (WebGPU forbids binding one buffer as
// both read-only and writable, hence in place). out must not alias a or b.
func (n *RMSNorm) PrepareAdd(a, b, w, out gpu.Binding, p NormParams) (*Dispatch, error) {
	return n.prepare(n.add, "rmsnorm_add", p, a, b, w, out)
}

// PrepareNormAdd is a norm of b, the residual add and a norm of the sum in
// one pass (Gemma's post-norms): a = a + norm(b)·w1 in place, out =
// norm(a)·w2. The same eps serves both norms; OnePlus applies to w2.
func (n *RMSNorm) PrepareNormAdd(a, b, w1, w2, out gpu.Binding, p NormParams) (*Dispatch, error) {
	return n.prepare(n.pre, "rmsnorm_add_pre", p, a, b, w1, w2, out)
}
