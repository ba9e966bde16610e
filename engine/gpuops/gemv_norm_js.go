//go:build js && wasm

package gpuops

import (
	"fmt"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// GemvNorm is the residual add and RMSNorm a decode GEMV of one activation
// row runs first (kernels/gemv_norm.wgsl), in place of the norm launch
// before it: S = A + B (rmsnorm_add), or with Post S = A + norm(B)·W1
// (rmsnorm_add_pre, Gemma's post-norms); the GEMV's input is then
// norm(S)·W2 (1 + W2 with OnePlus). Each has N elements; S must not alias
// A or B (every workgroup reads A and B, the first one writes S).
type GemvNorm struct {
	A, B, W1, W2, S gpu.Binding
	Post            bool
	N               int
	Eps             float32
	OnePlus         bool
}

// gemvNormMaxN is the longest row a fused norm holds: 4 quads per
// invocation, kept in registers.
const gemvNormMaxN = 4 * 4 * gemvWG

// GemvNormFixed, when non-zero, overrides GemvNormFits' choice by adapter
// and shape (1: any shape the kernel holds, -1: none; tests and
// benchmarks).
var GemvNormFixed = 0

// gemvNormMaxWork bounds outputs × row length of a GEMV that takes a
// fused norm: every workgroup recomputes the norm, so the wider GEMVs pay
// more than the launch saved. On the H200 the fused gate/up GEMV of
// gemma-3-270m (2048 × 640) and Qwen3-0.6B (3072 × 1024) gained, those of
// gemma-3-1b (6912 × 1152: 23.5 → 31.5 µs per launch, a norm launch costs
// ~6) and gemma-2-2b (9216 × 2304: 42 → 56 µs) lost.
const gemvNormMaxWork = 1 << 22

// gemvNormPays reports whether a GEMV of outs outputs over rows of n is
// small enough for a fused norm to pay.
func gemvNormPays(n, outs int) bool { return n*outs <= gemvNormMaxWork }

// GemvNormFits reports whether a GEMV of outs outputs over rows of n
// elements that binds storage buffers of its own can take a fused norm:
// on a GPU (a software adapter pays for every workgroup's copy of the
// norm: it runs them on a few CPU cores), for a shape small enough
// (gemvNormMaxWork), where the device holds the norm's four more storage
// bindings (more than WebGPU's default limit of 8 for the q/k/v GEMV,
// which needs 11) and its normed row in workgroup memory.
func (c *Context) GemvNormFits(n, outs, storage int) bool {
	switch {
	case GemvNormFixed < 0, n%4 != 0, n > gemvNormMaxN:
		return false
	case GemvNormFixed == 0 && (!gemvNormPays(n, outs) || c.Dev.Info.Adapter.IsFallbackAdapter):
		return false
	}
	lim := c.Dev.Info.Limits
	shared := uint64(16*gemvPro{n: n}.quads() + 20*gemvWG) // xs + the reductions' wg_red, rg_red
	return uint64(storage+4) <= lim["maxStorageBuffersPerShaderStage"] && shared <= lim["maxComputeWorkgroupStorageSize"]
}

// shape is the compile-time part for a kernel whose own bindings end
// before binding.
func (g *GemvNorm) shape(binding int) *gemvPro {
	if g == nil {
		return nil
	}
	mode := 1
	if g.Post {
		mode = 2
	}
	return &gemvPro{kind: "gemv_norm", mode: mode, n: g.N, binding: binding}
}

// check refuses what the kernel cannot do.
func (g *GemvNorm) check(in, rows int) error {
	if g == nil {
		return nil
	}
	if rows != 1 || g.N != in || g.N%4 != 0 || g.N > gemvNormMaxN {
		return fmt.Errorf("gpuops: a fused norm needs one activation row of a multiple of 4 elements up to %d (rows %d, norm %d, matmul in %d)",
			gemvNormMaxN, rows, g.N, in)
	}
	return nil
}

// entries are the fused norm's binding types after the kernel's own.
func (g *GemvNorm) entries() []gpu.BindingType {
	if g == nil {
		return nil
	}
	return []gpu.BindingType{gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage}
}

// bindings are B, W1, W2 and S (W1 is W2 again for a norm without one:
// the kernel does not read it).
func (g *GemvNorm) bindings() []gpu.Binding {
	if g == nil {
		return nil
	}
	w1 := g.W1
	if !g.Post {
		w1 = g.W2
	}
	return []gpu.Binding{g.B, w1, g.W2, g.S}
}

// x is the binding in the GEMV's activation slot: A, or x without a norm.
func (g *GemvNorm) x(x gpu.Binding) gpu.Binding {
	if g == nil {
		return x
	}
	return g.A
}

// uniform is the params' fused norm part (zero without a norm).
func (g *GemvNorm) uniform() gemvNormParams {
	if g == nil {
		return gemvNormParams{}
	}
	p := gemvNormParams{NormEps: g.Eps}
	if g.OnePlus {
		p.NormOne = 1
	}
	return p
}
