//go:build js && wasm

package gpuops

import (
	"fmt"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// GemvCombine is the decode attention's combine pass run inside the GEMV
// that reads the attention's output (kernels/gemv_combine.wgsl), in place
// of its own launch: Part holds, per head and split, the split's max, sum
// and accumulator (Attention.PrepareDeferred); the GEMV's input is the
// merged row of Heads × HeadDim.
type GemvCombine struct {
	Part                   gpu.Binding
	Heads, HeadDim, Splits int
}

// GemvCombineFixed, when non-zero, overrides GemvCombineFits' choice by
// adapter (1: any shape the kernel holds, -1: none; tests and benchmarks).
var GemvCombineFixed = 0

// gemvCombineMaxWork bounds the values each workgroup of a GEMV that
// merges the partials reads first (row length × splits): that read is on
// every workgroup's critical path. On an H100 (GPU time per token, one
// run), the o projections of gemma-3-270m and gemma-3-1b (rows of 1,024, 21
// splits) gained or broke even, those of Qwen3-0.6B and gemma-2-2b (rows
// of 2,048, 21 splits) lost 5–6%; fewer, wider workgroups lost more.
const gemvCombineMaxWork = 1 << 15

// gemvCombinePays reports whether merging splits partials into a row of n
// inside the GEMV costs less than the combine launch it saves.
func gemvCombinePays(n, splits int) bool { return n*splits <= gemvCombineMaxWork }

// gemvCombineMaxHeads is the most query heads the prologue merges (its
// per-head sums in workgroup memory).
const gemvCombineMaxHeads = 64

// GemvCombineFits reports whether a decode GEMV can merge heads × splits
// partials of head_dim into its row: on a GPU (a software adapter runs
// every workgroup's copy of the merge on a few CPU cores), where the merge
// is short enough to pay (gemvCombineMaxWork), for a row the workgroup
// holds and split weights that fit beside it in workgroup memory.
func (c *Context) GemvCombineFits(heads, dim, splits int) bool {
	n := heads * dim
	switch {
	case GemvCombineFixed < 0, n%4 != 0, dim%4 != 0, n > gemvNormMaxN, heads > gemvCombineMaxHeads, splits < 2:
		return false
	case GemvCombineFixed == 0 && (!gemvCombinePays(n, splits) || c.Dev.Info.Adapter.IsFallbackAdapter):
		return false
	}
	g := GemvCombine{Heads: heads, HeadDim: dim, Splits: splits}
	shared := uint64(16*gemvPro{n: n}.quads() + 4*g.staged() + 4*gemvCombineMaxHeads + 20*gemvWG)
	return shared <= c.Dev.Info.Limits["maxComputeWorkgroupStorageSize"]
}

// staged is the split weights' array length: heads × splits rounded up
// to 256 (fewer shader variants as spans change the split count).
func (g *GemvCombine) staged() int { return (g.Heads*g.Splits + 255) / 256 * 256 }

// shape is the compile-time part.
func (g *GemvCombine) shape() *gemvPro {
	if g == nil {
		return nil
	}
	return &gemvPro{kind: "gemv_combine", n: g.Heads * g.HeadDim, staged: g.staged()}
}

// check refuses what the kernel cannot do.
func (g *GemvCombine) check(in, rows int) error {
	if g == nil {
		return nil
	}
	n := g.Heads * g.HeadDim
	if rows != 1 || n != in || g.HeadDim%4 != 0 || n > gemvNormMaxN || g.Heads > gemvCombineMaxHeads || g.Splits < 1 {
		return fmt.Errorf("gpuops: a fused combine needs one row of up to %d heads × a multiple of 4 up to %d elements (rows %d, %d × %d, matmul in %d)",
			gemvCombineMaxHeads, gemvNormMaxN, rows, g.Heads, g.HeadDim, in)
	}
	return nil
}

// uniform is the params' fused combine part (zero without one).
func (g *GemvCombine) uniform() gemvCombineParams {
	if g == nil {
		return gemvCombineParams{}
	}
	return gemvCombineParams{Heads: uint32(g.Heads), Dim: uint32(g.HeadDim), Splits: uint32(g.Splits)}
}
