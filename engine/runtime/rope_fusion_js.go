//go:build js && wasm

package runtime

import (
	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/gpuops"
)

// pendingRope is a recorded in-place q/k norm + rotation (RopeQK): what a
// decode attention of the rotated handles needs to do that work itself
// (gpuops.AttnRope), a launch fewer per layer.
type pendingRope struct {
	item int
	q, k *Tensor // the rotated handles RopeQK returned
	pos  *Tensor
	rope gpuops.AttnRope
	op   string // what the fused entry's op says of it: "qk_norm+rope" or "rope"
}

// ropeAttnFixed overrides whether decode attention absorbs the rope before
// it: > 0 on software adapters too, < 0 never (tests compare the plans).
// By default GPUs only: on SwiftShader the fused launches cost make demo's
// summary 36 s against 27 s.
var ropeAttnFixed = 0

// fusesRope reports whether decode attention absorbs the rope before it
// on this backend (ropeAttnFixed, the adapter, at.FusesRope).
func (b *Backend) fusesRope(at *gpuops.Attention) bool {
	on := ropeAttnFixed > 0 || ropeAttnFixed == 0 && !b.dev.Info.Adapter.IsFallbackAdapter
	return on && at.FusesRope()
}

// fusableRope returns the rope that rotated q and k when the attention
// about to be recorded can do it itself: it is the last op recorded and not
// yet run, q and k are still its current outputs, the step is decode (one
// row per sequence, positions from the rope's own buffer) and the device
// binds the fused kernel's storage buffers.
func (r *recording) fusableRope(q, k, pos *Tensor, bt *arch.Batch, at *gpuops.Attention) *pendingRope {
	lr := r.lastRope
	if lr == nil || bt.T != 1 || lr.item != len(r.items)-1 || lr.item < r.run || !r.b.fusesRope(at) {
		return nil
	}
	for _, p := range [][2]*Tensor{{lr.q, q}, {lr.k, k}} {
		if p[0].buf != p[1].buf || p[0].ver != p[1].ver || r.versions[p[1].buf] != p[1].ver {
			return nil
		}
	}
	if lr.pos.buf != pos.buf || lr.pos.off != pos.off {
		return nil
	}
	return lr
}

// fuseRope drops the rope's dispatch (the attention recorded next norms and
// rotates instead). q and k
// keep their unrotated values: their rotated handles become stale, so a
// later reader fails loudly at capture (forward passes read them only in
// the attention).
func (r *recording) fuseRope(lr *pendingRope) {
	r.items[lr.item].d.Release() // never submitted
	r.items = r.items[:lr.item]
	r.lastRope = nil
	r.versions[lr.q.buf]++
	r.versions[lr.k.buf]++
}

// fusedEntry is the plan entry of attention e with the rope inside: its op
// and kernel say so (the profile groups launches by them).
func (lr *pendingRope) fusedEntry(e PlanEntry) PlanEntry {
	e.Op = lr.op + "+" + e.Op
	e.Kernel += "+rope"
	return e
}
