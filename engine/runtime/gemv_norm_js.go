//go:build js && wasm

package runtime

import (
	"github.com/doppler-engine/doppler/engine/gpuops"
)

// pendingResidNorm is a recorded residual add and norm of the sum (in
// place: sum is the add's retargeted handle, out the normed row), with the
// inputs it takes to run inside the decode GEMV that reads out instead
// (gpuops.GemvNorm): a launch fewer per norm.
type pendingResidNorm struct {
	item     int
	a, b     *Tensor // residual and addend (b normed by w1 first with post)
	w1, w2   *Tensor
	post     bool
	p        gpuops.NormParams
	sum, out *Tensor
	entry    PlanEntry
	// prepare makes the launch of the add and norm with params p, as
	// recorded (again with other params: q8FromNorm).
	prepare func(p gpuops.NormParams) (*gpuops.Dispatch, error)
}

// fusableResidNorm returns the residual add + norm whose output x is when
// a GEMV of x's one row can absorb it: it is the last op recorded and not
// yet run, x is still current, and the device holds the fused kernel for
// a GEMV of outs outputs binding storage buffers of its own.
func (r *recording) fusableResidNorm(x *Tensor, rows, outs, storage int) *pendingResidNorm {
	rn := r.lastResidNorm
	if rn == nil || rn.out != x || rows != 1 || rn.item != len(r.items)-1 || rn.item < r.run {
		return nil
	}
	if r.versions[x.buf] != x.ver || !r.b.ops.GemvNormFits(rn.p.N, outs, storage) {
		return nil
	}
	return rn
}

// fuseResidNorm drops the norm's dispatch and returns it as a GemvNorm for
// the GEMV about to be recorded. The sum goes to a fresh buffer (every
// workgroup of the GEMV reads the residual, so it cannot be updated in
// place): its handle is retargeted there, as fuseAdd retargeted it to the
// residual's. The normed row is never written: its handle becomes stale.
func (r *recording) fuseResidNorm(rn *pendingResidNorm) gpuops.GemvNorm {
	r.items[rn.item].d.Release() // never submitted
	r.items = r.items[:rn.item]
	r.lastResidNorm = nil
	s := r.alloc(rn.sum.shape, rn.sum.name)
	rn.sum.buf, rn.sum.ver = s.buf, s.ver
	r.versions[rn.out.buf]++
	w1 := rn.w2 // not read without a post-norm
	if rn.post {
		w1 = rn.w1
	}
	return gpuops.GemvNorm{A: rn.a.binding(), B: rn.b.binding(), W1: w1.binding(), W2: rn.w2.binding(), S: s.binding(),
		Post: rn.post, N: rn.p.N, Eps: rn.p.Eps, OnePlus: rn.p.OnePlus}
}

// fusedEntry is the plan entry of GEMV e with the norm inside: its op and
// kernel say so (the profile groups launches by them).
func (rn *pendingResidNorm) fusedEntry(e PlanEntry) PlanEntry {
	e.Op = rn.entry.Op + "+" + e.Op
	e.Kernel += "+" + rn.entry.Kernel
	return e
}
