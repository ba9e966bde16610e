//go:build js && wasm

package runtime

import (
	"github.com/doppler-engine/doppler/engine/gpuops"
)

// pendingCombine is a recorded decode attention of one row whose last
// launch merges its split partials, with what a GEMV of its output needs
// to merge them itself (gpuops.GemvCombine): a launch fewer per layer.
type pendingCombine struct {
	item int
	out  *Tensor
	c    gpuops.GemvCombine
}

// fusableCombine returns the attention whose output x is when a GEMV of
// x's one row can merge its partials: it is the last op recorded and not
// yet run, x is its output, still current, and w's GEMV can hold the
// merge and gains by it.
func (r *recording) fusableCombine(x *Tensor, rows int, w *gpuops.Weight) *pendingCombine {
	pc := r.lastCombine
	if pc == nil || rows != 1 || pc.item != len(r.items)-1 || pc.item < r.run {
		return nil
	}
	if x.buf != pc.out.buf || x.off != pc.out.off || x.ver != pc.out.ver || r.versions[x.buf] != x.ver {
		return nil
	}
	if !r.b.ops.GemvCombineFits(*w, pc.c.Heads, pc.c.HeadDim, pc.c.Splits) {
		return nil
	}
	return pc
}

// fuseCombine drops the attention's combine launch and returns its merge
// for the GEMV about to be recorded. The attention's output is never
// written: its handle becomes stale.
func (r *recording) fuseCombine(pc *pendingCombine) gpuops.GemvCombine {
	r.items[pc.item].d.DropCombine()
	r.lastCombine = nil
	r.versions[pc.out.buf]++
	return pc.c
}

// combinedEntry is the plan entry of GEMV e with the merge inside.
func combinedEntry(e PlanEntry) PlanEntry {
	e.Op = "combine+" + e.Op
	e.Kernel += "+combine"
	return e
}
