//go:build js && wasm

package gpuops

import (
	"fmt"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// GemvCombine is the decode attention's combine pass run inside the GEMV
// that reads the attention's output (kernels/gemv_combine.wgsl), in place
// of its own launch: Part holds, per head and split, the split's record
// ((max, sum, 0, 0), then its accumulator's quads; Dispatch.Combine names
// it); the GEMV's input is the merged row of Heads × HeadDim.
type GemvCombine struct {
	Part                   gpu.Binding
	Heads, HeadDim, Splits int
}

// GemvCombineFixed, when non-zero, overrides GemvCombineFits' choice by
// adapter (1: any shape the kernel holds, -1: none; tests and benchmarks).
var GemvCombineFixed = 0

// gemvCombineMaxMerge bounds the values each workgroup of a GEMV that
// merges the partials reads first (row length × splits: the merge is on
// every workgroup's critical path), gemvCombineMaxTraffic those all its
// workgroups read (each reads every partial). On an H100 (GPU time per
// token, A/B in one run), the o projections of gemma-3-270m and gemma-3-1b
// (rows of 1,024, 21 splits, 80 and 144 workgroups) gained 1–10% and
// Qwen3-0.6B's (2,048, 21 splits, 256 workgroups) broke even, each saving
// a launch per layer; gemma-2-2b's (576 workgroups) lost 5%. Fewer, wider
// workgroups (8 or 16 lanes a row) lost more.
const (
	gemvCombineMaxMerge   = 1 << 16
	gemvCombineMaxTraffic = 1 << 24
)

// gemvCombinePays reports whether merging splits partials into a row of
// w.In elements inside w's GEMV costs less than the combine launch it
// saves.
func gemvCombinePays(w Weight, splits int) bool {
	unit := matmulUnit(w.DType, w.In)
	groups := int(gemvGroups(w.Out, 1, gemvLanes(w.DType, w.In/unit, w.Out)))
	merge := w.In * splits
	return merge <= gemvCombineMaxMerge && groups*merge <= gemvCombineMaxTraffic
}

// gemvCombineMaxHeads is the most query heads the prologue merges (its
// per-head sums in workgroup memory).
const gemvCombineMaxHeads = 64

// GemvCombineFits reports whether w's decode GEMV can merge heads × splits
// partials of head_dim into its row: on a GPU (a software adapter runs
// every workgroup's copy of the merge on a few CPU cores), where the merge
// pays (gemvCombinePays), for a row the workgroup holds and split weights
// that fit beside it in workgroup memory.
func (c *Context) GemvCombineFits(w Weight, heads, dim, splits int) bool {
	n := heads * dim
	switch {
	case GemvCombineFixed < 0, n != w.In, n%4 != 0, dim%4 != 0, n > gemvNormMaxN, heads > gemvCombineMaxHeads, splits < 2:
		return false
	case GemvCombineFixed == 0 && (!gemvCombinePays(w, splits) || c.Dev.Info.Adapter.IsFallbackAdapter):
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
