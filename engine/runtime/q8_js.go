//go:build js && wasm

package runtime

import (
	"fmt"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpuops"
)

// q8NormOff keeps every GEMV's quantize launch (tests compare).
var q8NormOff = false

// q8FromNorm makes the norm that stored x also store it as 8-bit
// activations (gpuops.NormParams.Q8Out) for the GEMV or tiled matmuls about
// to be recorded, which read those (gpuops.Context.Q8Acts or TiledQ8 said
// they would), and returns that copy: their own quantize launch fewer. nil
// unless the norm is the last op recorded and not yet run, x is its output
// and still current.
func (r *recording) q8FromNorm(x *Tensor) *Tensor {
	last := len(r.items) - 1
	k := x.shape[len(x.shape)-1]
	if q8NormOff || last < 0 || last < r.run || r.versions[x.buf] != x.ver {
		return nil
	}
	var p gpuops.NormParams
	var prepare func(gpuops.NormParams) (*gpuops.Dispatch, error)
	switch rn, pn := r.lastResidNorm, r.lastNorm; {
	case rn != nil && rn.out == x && rn.item == last:
		p, prepare = rn.p, rn.prepare
	case pn != nil && pn.y == x && pn.item == last:
		p, prepare = pn.p, pn.prepare
	default:
		return nil
	}
	if p.Rows*p.N != x.numel() {
		return nil
	}
	q := r.alloc([]int{p.Rows * int(gpuops.Q8Bytes(k)) / r.b.prec.Bytes()}, "q8")
	p.Q8Out = q.binding()
	d, err := prepare(p)
	if err != nil {
		r.b.fail(fmt.Errorf("%s (layer %d) storing 8-bit activations: %w", r.items[last].entry.Op, r.items[last].entry.Layer, err))
	}
	r.items[last].d.Release() // never submitted
	r.items[last].d = d
	r.items[last].entry.Kernel += "+q8"
	r.lastResidNorm, r.lastNorm = nil, nil // its dispatch is the GEMV's now: nothing else may fuse it
	return q
}

// q8Input is the 8-bit copy of x that the norm before a GEMV of rows rows
// of x, outs outputs and weights of types stores for it (q8FromNorm),
// where the GEMV reads 8-bit activations; nil: the GEMV reads x.
func (b *Backend) q8Input(x *Tensor, rows, outs int, types ...dtype.DType) *Tensor {
	if !b.ops.Q8Acts(rows, x.shape[len(x.shape)-1], outs, types...) {
		return nil
	}
	return b.rec.q8FromNorm(x)
}

// q8Rows records the launch that stores x's rows as 8-bit activations for
// the tiled matmuls of x by ws, which read that copy (matMul's xq): one
// quantize launch for q/k/v or gate and up, not one each, and none where
// the norm that wrote x can store them too (q8FromNorm). nil (each
// matmul as it would) unless there are TiledMinRows rows or more and every
// weight takes them (gpuops.Context.TiledQ8).
func (b *Backend) q8Rows(x *Tensor, rows int, ws ...*gpuops.Weight) *Tensor {
	k := x.shape[len(x.shape)-1]
	if rows < gpuops.TiledMinRows || x.dt != b.act {
		return nil
	}
	for _, w := range ws {
		if w.In != k || !b.ops.TiledQ8(k, w.DType) {
			return nil
		}
	}
	if q := b.rec.q8FromNorm(x); q != nil {
		return q
	}
	b.rec.check(x, "quantize_q8")
	q := b.rec.alloc([]int{rows * int(gpuops.Q8Bytes(k)) / b.prec.Bytes()}, "q8")
	d, err := b.ops.PrepareQuantizeRows(x.binding(), q.binding(), k, rows)
	b.rec.add(d, err, PlanEntry{Layer: b.layer, Op: "quantize", Kernel: "quantize_q8", DType: b.act})
	return q
}
