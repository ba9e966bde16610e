//go:build js && wasm

package runtime

import (
	"fmt"
	"slices"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/model"
)

// input checks that t holds what kernel reads, naming both when it does not.
func (b *Backend) input(t *Tensor, kernel, role, want string) {
	b.rec.check(t, kernel)
	if t.w != nil && want == b.act {
		b.fail(&PlanError{Kernel: kernel, Input: role, Producer: t.name, Want: want + " activations", Got: t.dt + " weight"})
	}
	if t.dt != want {
		b.fail(&PlanError{Kernel: kernel, Input: role, Producer: t.name, Want: want, Got: t.dt})
	}
}

// weight checks that t is a packed matrix.
func (b *Backend) weight(t *Tensor, kernel string) *gpuops.Weight {
	if t.w == nil {
		b.fail(fmt.Errorf("runtime: %s needs a 2-D weight, %s is %v (%s)", kernel, t.name, t.shape, t.dt))
	}
	if l := layerOf(t.name); l >= 0 {
		b.layer = l
	}
	return t.w
}

func (b *Backend) embedKernel(t dtype.DType) *gpuops.Embed {
	k, ok := b.embed[t]
	if !ok {
		var err error
		if k, err = gpuops.NewEmbed(b.ctx, b.ops, t); err != nil {
			b.fail(err)
		}
		b.embed[t] = k
	}
	return k
}

func (b *Backend) matmulKernel(t dtype.DType) *gpuops.MatMul {
	k, ok := b.matmul[t]
	if !ok {
		var err error
		if k, err = gpuops.NewMatMul(b.ctx, b.ops, t); err != nil {
			b.fail(err)
		}
		b.matmul[t] = k
	}
	return k
}

func (b *Backend) mm2Kernel(t dtype.DType) *gpuops.MatMul2 {
	k, ok := b.mm2[t]
	if !ok {
		k = gpuops.NewMatMul2(b.ops, t)
		b.mm2[t] = k
	}
	return k
}

func (b *Backend) qkvKernel() *gpuops.MatMulQKV {
	if b.qkv == nil {
		b.qkv = gpuops.NewMatMulQKV(b.ops)
	}
	return b.qkv
}

func (b *Backend) normKernel() *gpuops.RMSNorm {
	if b.norm == nil {
		var err error
		if b.norm, err = gpuops.NewRMSNorm(b.ctx, b.ops); err != nil {
			b.fail(err)
		}
	}
	return b.norm
}

func (b *Backend) eltKernel() *gpuops.Eltwise {
	if b.elt == nil {
		var err error
		if b.elt, err = gpuops.NewEltwise(b.ctx, b.ops); err != nil {
			b.fail(err)
		}
	}
	return b.elt
}

func (b *Backend) ropeKernel() *gpuops.Rope {
	if b.rope == nil {
		var err error
		if b.rope, err = gpuops.NewRope(b.ctx, b.ops); err != nil {
			b.fail(err)
		}
	}
	return b.rope
}

func (b *Backend) attnKernel() *gpuops.Attention {
	if b.attn == nil {
		var err error
		if b.attn, err = gpuops.NewAttention(b.ctx, b.ops); err != nil {
			b.fail(err)
		}
	}
	return b.attn
}

func (b *Backend) argmaxKernel() *gpuops.Argmax {
	if b.argmax == nil {
		var err error
		if b.argmax, err = gpuops.NewArgmax(b.ctx, b.ops); err != nil {
			b.fail(err)
		}
	}
	return b.argmax
}

// actDType is the dtype whose packed rows are exactly an activation row,
// so the embedding gather can also gather activation rows (Rows).
func (b *Backend) actDType() dtype.DType {
	if b.prec == gpuops.F16 {
		return dtype.F16
	}
	return dtype.F32
}

func (b *Backend) Embed(table, ids arch.Tensor) arch.Tensor {
	tb, id := gt(table), gt(ids)
	w := b.weight(tb, "embed")
	b.layer = -1
	b.input(id, "embed", "ids", "i32")
	rows := id.numel()
	out := b.rec.alloc([]int{rows, w.In}, "embed")
	d, err := b.embedKernel(w.DType).Prepare(*w, id.binding(), id.off, out.binding(), rows, 1)
	e := PlanEntry{Layer: -1, Op: "embed", Kernel: "embed/" + dtypeName(w.DType), DType: dtypeName(w.DType), Weight: tb.name}
	b.rec.add(d, err, e)
	b.rec.lastEmbed = &pendingEmbed{item: len(b.rec.items) - 1, table: *w, ids: id, y: out, entry: e}
	return out
}

// Scale of a gather just recorded (Gemma's sqrt(hidden) on the embeddings)
// runs inside the gather: one dispatch fewer per step.
func (b *Backend) Scale(x arch.Tensor, s float32) arch.Tensor {
	a := gt(x)
	b.input(a, "eltwise_scale", "x", b.act)
	if le := b.rec.fusableEmbed(a); le != nil {
		d, err := b.embedKernel(le.table.DType).Prepare(le.table, le.ids.binding(), le.ids.off, le.y.binding(), le.ids.numel(), s)
		return withShape(b.rec.fuseScale(le, d, err), a.shape)
	}
	out := b.rec.alloc(a.shape, "scale")
	d, err := b.eltKernel().PrepareScale(a.binding(), out.binding(), a.numel(), s)
	b.rec.add(d, err, PlanEntry{Layer: b.layer, Op: "scale", Kernel: "eltwise_scale", DType: b.act})
	return out
}

func (b *Backend) RMSNorm(x, w arch.Tensor, eps float32) arch.Tensor {
	a, g := gt(x), gt(w)
	if l := layerOf(g.name); l >= 0 {
		b.layer = l
	} else if g.name == "output_norm.weight" {
		b.layer = -1
	}
	b.input(a, "rmsnorm", "x", b.act)
	b.input(g, "rmsnorm", "weight", "f32")
	n := a.shape[len(a.shape)-1]
	if g.numel() != n {
		b.fail(fmt.Errorf("runtime: rms_norm weight %s of %d for rows of %d", g.name, g.numel(), n))
	}
	p := gpuops.NormParams{Rows: a.numel() / n, N: n, Eps: eps}
	if f := b.opts.Fault; f != nil && f.Op == "rmsnorm" && f.Layer == b.layer {
		p.OnePlus = true // the injected fault: a wrong norm offset
	}
	out := b.rec.alloc(a.shape, "rmsnorm")
	if fa := b.rec.fusableAdd(a); fa != nil {
		// The residual add just recorded and this norm of its sum become
		// one pass that adds in place into the add's first input (see
		// recording.fusableAdd for why that is safe); a norm that made the
		// add's other input joins them when it has the same eps.
		// Either may run inside the decode GEMV that reads out next
		// (lastResidNorm).
		rn := &pendingResidNorm{a: fa.a, b: fa.b, w2: g, p: p, sum: fa.y, out: out}
		norm := b.normKernel()
		if pre := fa.pre; pre != nil && pre.p.Eps == p.Eps && pre.x.buf != fa.a.buf && pre.x.w == nil {
			rn.entry = PlanEntry{Layer: b.layer, Op: "rmsnorm+add+rmsnorm", Kernel: "rmsnorm_add_pre", DType: "f32", Weight: g.name}
			rn.b, rn.w1, rn.post = pre.x, pre.w, true
			rn.prepare = func(p gpuops.NormParams) (*gpuops.Dispatch, error) {
				return norm.PrepareNormAdd(rn.a.binding(), rn.b.binding(), rn.w1.binding(), rn.w2.binding(), rn.out.binding(), p)
			}
		} else {
			fa.pre = nil
			rn.entry = PlanEntry{Layer: b.layer, Op: "add+rmsnorm", Kernel: "rmsnorm_add", DType: "f32", Weight: g.name}
			rn.prepare = func(p gpuops.NormParams) (*gpuops.Dispatch, error) {
				return norm.PrepareAdd(rn.a.binding(), rn.b.binding(), rn.w2.binding(), rn.out.binding(), p)
			}
		}
		d, err := rn.prepare(p)
		b.rec.fuseAdd(fa, d, err, rn.entry)
		rn.item = len(b.rec.items) - 1
		b.rec.lastResidNorm = rn
		return out
	}
	pn := &pendingNorm{x: a, w: g, y: out, p: p}
	norm := b.normKernel()
	pn.prepare = func(p gpuops.NormParams) (*gpuops.Dispatch, error) {
		return norm.Prepare(pn.x.binding(), pn.w.binding(), pn.y.binding(), p)
	}
	d, err := pn.prepare(p)
	b.rec.add(d, err, PlanEntry{Layer: b.layer, Op: "rmsnorm", Kernel: "rmsnorm", DType: "f32", Weight: g.name})
	pn.item = len(b.rec.items) - 1
	b.rec.lastNorm = pn
	return out
}

func (b *Backend) MatMul(x, w arch.Tensor) arch.Tensor { return b.matMul(x, w, nil) }

// matMul is MatMul; xq, when set, holds x's rows as 8-bit activations
// (q8Rows), which the tiled matmul reads in place of x.
func (b *Backend) matMul(x, w arch.Tensor, xq *Tensor) arch.Tensor {
	a, m := gt(x), gt(w)
	wt := b.weight(m, "matmul")
	if m.name == "output.weight" || m.name == "token_embd.weight" {
		b.layer = -1
	}
	b.input(a, "matmul/"+dtypeName(wt.DType), "x", b.act)
	in := a.shape[len(a.shape)-1]
	if in != wt.In {
		b.fail(fmt.Errorf("runtime: matmul of rows of %d by %s {%d, %d}", in, m.name, wt.In, wt.Out))
	}
	rows := a.numel() / in
	shape := slices.Clone(a.shape)
	shape[len(shape)-1] = wt.Out
	out := b.rec.alloc(shape, "matmul")
	e := PlanEntry{Layer: b.layer, Op: "matmul", Kernel: "matmul/" + dtypeName(wt.DType), DType: dtypeName(wt.DType), Weight: m.name}
	if pc := b.rec.fusableCombine(a, rows, wt); pc != nil {
		d, err := b.matmulKernel(wt.DType).PrepareCombine(*wt, b.rec.fuseCombine(pc), out.binding())
		b.rec.add(d, err, combinedEntry(e))
		return out
	}
	if q := b.q8Input(a, rows, wt.Out, wt.DType); q != nil {
		d, err := b.matmulKernel(wt.DType).PrepareQ8In(*wt, q.binding(), out.binding())
		b.rec.add(d, err, e)
		return out
	}
	if xq != nil {
		b.rec.check(xq, "matmul/"+dtypeName(wt.DType))
		d, err := b.matmulKernel(wt.DType).PrepareQ8Rows(*wt, xq.binding(), out.binding(), rows)
		b.rec.add(d, err, e)
		return out
	}
	d, err := b.matmulKernel(wt.DType).Prepare(*wt, a.binding(), out.binding(), rows)
	b.rec.add(d, err, e)
	return out
}

func (b *Backend) Reshape(x arch.Tensor, shape ...int) arch.Tensor {
	a := gt(x)
	b.rec.check(a, "reshape")
	if la := b.rec.lastAdd; la != nil && la.y == a {
		la.viewed = true // a copy of the handle exists: it could not follow a fusion
	}
	if numel(shape) != a.numel() {
		b.fail(fmt.Errorf("runtime: reshape of %v to %v", a.shape, shape))
	}
	return withShape(a, shape)
}

// Rope rotates in place (the kernel's contract): the input handle becomes
// stale, which recording.check enforces. Forward passes only ever rotate a
// fresh projection, so nothing else reads the unrotated values.
func (b *Backend) Rope(x, pos arch.Tensor, p arch.RopeParams) arch.Tensor {
	a, ps := gt(x), gt(pos)
	b.input(a, "rope", "x", b.act)
	b.input(ps, "rope", "positions", "i32")
	if len(a.shape) != 3 || a.shape[0] != ps.numel() {
		b.fail(fmt.Errorf("runtime: rope of %v at %d positions", a.shape, ps.numel()))
	}
	cfg := b.ropeConfig(p)
	d, err := b.ropeKernel().Prepare(a.binding(), ps.binding(), ps.off, a.shape[0], a.shape[1], a.shape[2], cfg)
	b.rec.add(d, err, PlanEntry{Layer: b.layer, Op: "rope", Kernel: "rope", DType: b.act})
	return b.rec.bump(a, "rope")
}

// RopeQK norms (when qn, kn are given) and rotates queries and keys in
// place in one launch (arch.QKRoper): both input handles become stale.
func (b *Backend) RopeQK(q, k, qn, kn, pos arch.Tensor, eps float32, p arch.RopeParams) (arch.Tensor, arch.Tensor) {
	qt, kt, ps := gt(q), gt(k), gt(pos)
	b.input(qt, "rope_qk", "q", b.act)
	b.input(kt, "rope_qk", "k", b.act)
	b.input(ps, "rope_qk", "positions", "i32")
	if len(qt.shape) != 3 || len(kt.shape) != 3 || qt.shape[0] != ps.numel() || kt.shape[0] != ps.numel() || qt.shape[2] != kt.shape[2] {
		b.fail(fmt.Errorf("runtime: rope of q %v and k %v at %d positions", qt.shape, kt.shape, ps.numel()))
	}
	if qt.buf == kt.buf {
		b.fail(fmt.Errorf("runtime: rope_qk needs q and k in separate buffers"))
	}
	hd := qt.shape[2]
	var norm *gpuops.QKNorm
	op := "rope_qk"
	if qn != nil {
		qw, kw := gt(qn), gt(kn)
		b.input(qw, "rope_qk", "q_norm", "f32")
		b.input(kw, "rope_qk", "k_norm", "f32")
		if qw.numel() != hd || kw.numel() != hd {
			b.fail(fmt.Errorf("runtime: q/k norm weights %s of %d, %s of %d for heads of %d", qw.name, qw.numel(), kw.name, kw.numel(), hd))
		}
		if l := layerOf(qw.name); l >= 0 {
			b.layer = l
		}
		norm = &gpuops.QKNorm{Q: qw.binding(), K: kw.binding(), Eps: eps}
		op = "qk_norm+rope"
	}
	cfg := b.ropeConfig(p)
	d, err := b.ropeKernel().PrepareQK(b.ctx, qt.binding(), kt.binding(), ps.binding(), ps.off, ps.numel(), qt.shape[1], kt.shape[1], hd, cfg, norm)
	b.rec.add(d, err, PlanEntry{Layer: b.layer, Op: op, Kernel: "rope_qk", DType: b.act})
	qr, kr := b.rec.bump(qt, op), b.rec.bump(kt, op)
	// A decode attention of qr and kr may do this itself (fusableRope).
	lr := &pendingRope{item: len(b.rec.items) - 1, q: qr, k: kr, pos: ps, rope: gpuops.AttnRope{Cfg: cfg, Norm: norm}, op: "rope"}
	if norm != nil {
		lr.op = "qk_norm+rope"
	}
	b.rec.lastRope = lr
	return qr, kr
}

// ropeConfig is p for the kernels (factors must be host constants).
func (b *Backend) ropeConfig(p arch.RopeParams) gpuops.RopeConfig {
	cfg := gpuops.RopeConfig{Neox: p.Style == model.RopeNeoX, Dim: p.Dim, Theta: p.Theta}
	if p.Factors != nil {
		f := gt(p.Factors)
		if f.host == nil {
			b.fail(fmt.Errorf("runtime: rope factors %s are not host constants", f.name))
		}
		cfg.Factors = f.host
	}
	return cfg
}

func (b *Backend) Attention(q, k, v arch.Tensor, cache arch.KV, bt *arch.Batch, p arch.AttnParams) arch.Tensor {
	qt, kt, vt := gt(q), gt(k), gt(v)
	pos, slots := gt(bt.Pos), gt(bt.Slots)
	for _, in := range []struct {
		t    *Tensor
		role string
	}{{qt, "q"}, {kt, "k"}, {vt, "v"}} {
		b.input(in.t, "attention", in.role, b.act)
	}
	b.input(pos, "attention", "positions", "i32")
	b.input(slots, "attention", "slots", "i32")
	c, ok := cache.(*kv)
	if !ok {
		b.fail(fmt.Errorf("runtime: cache %T is not a WebGPU cache", cache))
	}
	if pos.buf != slots.buf {
		b.fail(fmt.Errorf("runtime: attention reads positions and slots from one step buffer"))
	}
	rows := bt.Rows()
	if len(qt.shape) != 3 || qt.shape[0] != rows || kt.shape[1] != c.heads || kt.shape[2] != c.dim || qt.shape[2] != c.dim {
		b.fail(fmt.Errorf("runtime: attention q %v k %v for %d×%d rows, cache %d×%d", qt.shape, kt.shape, bt.B, bt.T, c.heads, c.dim))
	}
	if bt.T > b.opts.MaxChunk && p.Window > 0 {
		b.fail(fmt.Errorf("runtime: a step of %d rows per sequence exceeds the chunk of %d the ring caches were sized for", bt.T, b.opts.MaxChunk))
	}
	if err := b.kvBuffers(c, p.Window); err != nil {
		b.fail(err)
	}
	heads := qt.shape[1]
	out := b.rec.alloc([]int{rows, heads * c.dim}, "attention")
	s := gpuops.AttnShape{B: bt.B, T: bt.T, Heads: heads, KVHeads: c.heads, HeadDim: c.dim, CacheLen: c.cacheLen,
		PosOff: pos.off, SlotOff: slots.off, Scale: p.Scale, Softcap: p.Softcap, Window: p.Window, Span: b.rec.span}
	e := PlanEntry{Layer: b.layer, Op: "attention", Kernel: "attention", DType: b.act}
	if lr := b.rec.fusableRope(qt, kt, pos, bt, b.attnKernel()); lr != nil {
		b.rec.fuseRope(lr)
		s.Rope, e = &lr.rope, lr.fusedEntry(e)
	}
	d, err := b.attnKernel().Prepare(qt.binding(), kt.binding(), vt.binding(), gpuBinding(c.k), gpuBinding(c.v), pos.binding(), out.binding(), s)
	b.rec.add(d, err, e)
	if cb, ok := d.Combine(); ok {
		b.rec.lastCombine = &pendingCombine{item: len(b.rec.items) - 1, out: out, c: cb}
	}
	return out
}

// MatMulGLU is GLU(MatMul(x, gate), MatMul(x, up), act) (arch.GLUMatMuler):
// one launch reading both weights where they pair up (one dtype and shape),
// the GEMV for few rows (decode), the tiled matmul for a prompt's; else the
// three ops.
func (b *Backend) MatMulGLU(x, gate, up arch.Tensor, act arch.Activation) arch.Tensor {
	a, gw, uw := gt(x), gt(gate), gt(up)
	g, u := b.weight(gw, "matmul_glu"), b.weight(uw, "matmul_glu")
	in := a.shape[len(a.shape)-1]
	rows := a.numel() / in
	k := b.mm2Kernel(g.DType)
	if in != g.In || !k.GLUPairs(*g, *u) {
		xq := b.q8Rows(a, rows, g, u)
		return b.GLU(b.matMul(x, gate, xq), b.matMul(x, up, xq), act)
	}
	name := "matmul_glu/" + dtypeName(g.DType)
	b.input(a, name, "x", b.act)
	shape := slices.Clone(a.shape)
	shape[len(shape)-1] = g.Out
	e := PlanEntry{Layer: b.layer, Op: "matmul+glu", Kernel: name + "/" + string(act),
		DType: dtypeName(g.DType), Weight: gw.name, Weight2: uw.name}
	if rows >= gpuops.TiledMinRows {
		xq := b.q8Rows(a, rows, g, u)
		out := b.rec.alloc(shape, "matmul+glu")
		var d *gpuops.Dispatch
		var err error
		if xq != nil {
			b.rec.check(xq, name)
			d, err = k.PrepareGLUQ8Rows(b.ctx, *g, *u, xq.binding(), out.binding(), rows, b.activation(act))
		} else {
			d, err = k.PrepareGLU(b.ctx, *g, *u, a.binding(), out.binding(), rows, b.activation(act))
		}
		b.rec.add(d, err, e)
		return out
	}
	if rn := b.rec.fusableResidNorm(a, rows, g.Out, gpuops.GLUStorage); rn != nil {
		nm := b.rec.fuseResidNorm(rn)
		out := b.rec.alloc(shape, "matmul+glu")
		d, err := k.PrepareGLUNorm(b.ctx, *g, *u, nm, out.binding(), b.activation(act))
		b.rec.add(d, err, rn.fusedEntry(e))
		return out
	}
	out := b.rec.alloc(shape, "matmul+glu")
	if q := b.q8Input(a, rows, 2*g.Out, g.DType); q != nil {
		d, err := k.PrepareGLUQ8In(b.ctx, *g, *u, q.binding(), out.binding(), b.activation(act))
		b.rec.add(d, err, e)
		return out
	}
	d, err := k.PrepareGLU(b.ctx, *g, *u, a.binding(), out.binding(), rows, b.activation(act))
	b.rec.add(d, err, e)
	return out
}

// MatMulQKV is MatMul(x, q), MatMul(x, k), MatMul(x, v)
// (arch.QKVMatMuler): one GEMV launch where the rows are few and the
// weights fit it (gpuops.MatMulQKV.Fits), else three.
func (b *Backend) MatMulQKV(x, q, k, v arch.Tensor) (arch.Tensor, arch.Tensor, arch.Tensor) {
	a := gt(x)
	ts := [3]*Tensor{gt(q), gt(k), gt(v)}
	var ws [3]gpuops.Weight
	for i, t := range ts {
		ws[i] = *b.weight(t, "matmul_qkv")
	}
	in := a.shape[len(a.shape)-1]
	rows := a.numel() / in
	kern := b.qkvKernel()
	if rows >= gpuops.TiledMinRows || in != ws[0].In || !kern.Fits(ws) {
		xq := b.q8Rows(a, rows, &ws[0], &ws[1], &ws[2])
		// A prompt chunk's projections of one dtype share a tiled launch
		// (Q4_K_M's v may have another: q and k share then).
		n := 1
		for n < 3 && ws[n].DType == ws[0].DType {
			n++
		}
		if mm := b.matmulKernel(ws[0].DType); mm != nil && n > 1 && mm.Shares(ws[:n], rows) {
			ys := b.matMulShared(a, ts[:n], ws[:n], rows, xq)
			if n == 2 {
				ys = append(ys, gt(b.matMul(x, v, xq)))
			}
			return ys[0], ys[1], ys[2]
		}
		return b.matMul(x, q, xq), b.matMul(x, k, xq), b.matMul(x, v, xq)
	}
	types := dtypeName(ws[0].DType)
	for _, w := range ws[1:] {
		if w.DType != ws[0].DType {
			types += "," + dtypeName(w.DType)
		}
	}
	b.input(a, "matmul_qkv/"+types, "x", b.act)
	var nm *gpuops.GemvNorm
	rn := b.rec.fusableResidNorm(a, rows, ws[0].Out+ws[1].Out+ws[2].Out, gpuops.QKVStorage)
	if rn != nil {
		n := b.rec.fuseResidNorm(rn)
		nm = &n
	}
	outs, bs := b.projOutputs(a, ws[:])
	ys, binds := [3]*Tensor(outs), [3]gpu.Binding(bs)
	e := PlanEntry{Layer: b.layer, Op: "matmul×3", Kernel: "matmul_qkv/" + types,
		DType: types, Weight: ts[0].name, Weight2: ts[1].name, Weight3: ts[2].name}
	if nm != nil {
		d, err := kern.PrepareNorm(b.ctx, ws, *nm, binds)
		b.rec.add(d, err, rn.fusedEntry(e))
		return ys[0], ys[1], ys[2]
	}
	if q := b.q8Input(a, rows, ws[0].Out+ws[1].Out+ws[2].Out, ws[0].DType, ws[1].DType, ws[2].DType); q != nil {
		d, err := kern.PrepareQ8In(b.ctx, ws, q.binding(), binds)
		b.rec.add(d, err, e)
		return ys[0], ys[1], ys[2]
	}
	d, err := kern.Prepare(b.ctx, ws, a.binding(), binds, rows)
	b.rec.add(d, err, e)
	return ys[0], ys[1], ys[2]
}

// matMulShared records the projections of x by ws (tensors ts) in one
// tiled launch (gpuops.MatMul.PrepareShared), reading xq where the chunk's
// rows are 8-bit already.
func (b *Backend) matMulShared(a *Tensor, ts []*Tensor, ws []gpuops.Weight, rows int, xq *Tensor) []*Tensor {
	kernel := "matmul_shared/" + dtypeName(ws[0].DType)
	b.input(a, kernel, "x", b.act)
	ys, binds := b.projOutputs(a, ws)
	e := PlanEntry{Layer: b.layer, Op: fmt.Sprintf("matmul×%d", len(ws)), Kernel: kernel, DType: dtypeName(ws[0].DType),
		Weight: ts[0].name, Weight2: ts[1].name}
	if len(ts) > 2 {
		e.Weight3 = ts[2].name
	}
	x := a.binding()
	if xq != nil {
		b.rec.check(xq, kernel)
		x = xq.binding()
	}
	d, err := b.matmulKernel(ws[0].DType).PrepareShared(ws, x, binds, rows, xq != nil)
	b.rec.add(d, err, e)
	return ys
}

// projOutputs allocates the outputs of a's projections by ws, and their
// bindings.
func (b *Backend) projOutputs(a *Tensor, ws []gpuops.Weight) ([]*Tensor, []gpu.Binding) {
	ys := make([]*Tensor, len(ws))
	binds := make([]gpu.Binding, len(ws))
	for i, w := range ws {
		shape := slices.Clone(a.shape)
		shape[len(shape)-1] = w.Out
		ys[i] = b.rec.alloc(shape, "matmul")
		binds[i] = ys[i].binding()
	}
	return ys, binds
}

// activation is act for the kernels.
func (b *Backend) activation(act arch.Activation) gpuops.Activation {
	switch act {
	case arch.SiLU:
		return gpuops.SiLU
	case arch.GELUTanh:
		return gpuops.GELUTanh
	}
	b.fail(fmt.Errorf("runtime: activation %q has no WebGPU kernel", act))
	return 0
}

func (b *Backend) GLU(gate, up arch.Tensor, act arch.Activation) arch.Tensor {
	g, u := gt(gate), gt(up)
	b.input(g, "eltwise_glu", "gate", b.act)
	b.input(u, "eltwise_glu", "up", b.act)
	if !slices.Equal(g.shape, u.shape) {
		b.fail(fmt.Errorf("runtime: glu of %v and %v", g.shape, u.shape))
	}
	a := b.activation(act)
	out := b.rec.alloc(g.shape, "glu")
	d, err := b.eltKernel().PrepareGLU(g.binding(), u.binding(), out.binding(), g.numel(), a)
	b.rec.add(d, err, PlanEntry{Layer: b.layer, Op: "glu", Kernel: "eltwise_glu/" + string(act), DType: b.act})
	return out
}

func (b *Backend) Add(x, y arch.Tensor) arch.Tensor {
	a, c := gt(x), gt(y)
	b.input(a, "eltwise_add", "a", b.act)
	b.input(c, "eltwise_add", "b", b.act)
	if a.numel() != c.numel() {
		b.fail(fmt.Errorf("runtime: add of %v and %v", a.shape, c.shape))
	}
	out := b.rec.alloc(a.shape, "add")
	d, err := b.eltKernel().PrepareAdd(a.binding(), c.binding(), out.binding(), a.numel())
	pre := b.rec.normBefore(c, len(b.rec.items))
	b.rec.add(d, err, PlanEntry{Layer: b.layer, Op: "add", Kernel: "eltwise_add", DType: b.act})
	b.rec.lastAdd = &pendingAdd{item: len(b.rec.items) - 1, a: a, b: c, y: out, pre: pre}
	return out
}

func (b *Backend) Softcap(x arch.Tensor, c float32) arch.Tensor {
	a := gt(x)
	b.input(a, "eltwise_softcap", "x", b.act)
	out := b.rec.alloc(a.shape, "softcap")
	d, err := b.eltKernel().PrepareSoftcap(a.binding(), out.binding(), a.numel(), c)
	b.rec.add(d, err, PlanEntry{Layer: b.layer, Op: "softcap", Kernel: "eltwise_softcap", DType: b.act})
	return out
}

// MoE records the whole mixture-of-experts feed-forward as one dispatch
// group (router matmul, top-k routing, the selected experts' GEMVs, GLU,
// weighted sum): expert ids stay in GPU scratch, so the recorded graph
// replays without reading them back.
func (b *Backend) MoE(x, router, gate, up, down arch.Tensor, p arch.MoEParams) arch.Tensor {
	a, rt, gw, uw, dw := gt(x), gt(router), gt(gate), gt(up), gt(down)
	r := b.weight(rt, "moe_route")
	g, u, d := b.weight(gw, "moe_matmul"), b.weight(uw, "moe_matmul"), b.weight(dw, "moe_matmul")
	b.input(a, "moe", "x", b.act)
	if len(gw.shape) != 3 || len(dw.shape) != 3 {
		b.fail(fmt.Errorf("runtime: moe expert weights %s %v and %s %v are not {in, out, experts}", gw.name, gw.shape, dw.name, dw.shape))
	}
	hidden := a.shape[len(a.shape)-1]
	s := gpuops.MoEShape{Rows: a.numel() / hidden, Hidden: hidden, FFN: gw.shape[1], Experts: r.Out, Used: p.Used, NormTopK: p.NormTopK}
	switch p.Act {
	case arch.SiLU:
		s.Act = gpuops.SiLU
	case arch.GELUTanh:
		s.Act = gpuops.GELUTanh
	default:
		b.fail(fmt.Errorf("runtime: activation %q has no WebGPU kernel", p.Act))
	}
	if b.moe == nil {
		var err error
		if b.moe, err = gpuops.NewMoE(b.ctx, b.ops); err != nil {
			b.fail(err)
		}
	}
	experts := b.weightSizes[gw.name] + b.weightSizes[uw.name] + b.weightSizes[dw.name]
	b.moeBytes[gw.name] = b.weightSizes[rt.name] + experts*uint64(p.Used)/uint64(max(1, r.Out))
	out := b.rec.alloc(a.shape, "moe")
	dp, err := b.moe.Prepare(b.ctx, a.binding(), out.binding(), *r, *g, *u, *d, s)
	kernel := fmt.Sprintf("moe/%s+%s/top%d", dtypeName(g.DType), dtypeName(d.DType), p.Used)
	if g.DType == d.DType && g.DType == u.DType {
		kernel = fmt.Sprintf("moe/%s/top%d", dtypeName(g.DType), p.Used)
	}
	b.rec.add(dp, err, PlanEntry{Layer: b.layer, Op: "moe", Kernel: kernel, DType: dtypeName(g.DType), Weight: gw.name})
	return out
}

// Rows gathers activation rows with the embedding kernel: an activation
// matrix [n, d] is a packed {d, n} table of the activation dtype.
func (b *Backend) Rows(x, idx arch.Tensor) arch.Tensor {
	a, id := gt(x), gt(idx)
	b.input(a, "rows", "x", b.act)
	b.input(id, "rows", "indices", "i32")
	d := a.shape[len(a.shape)-1]
	n := a.numel() / d
	m := id.numel()
	w := gpuops.Weight{DType: b.actDType(), In: d, Out: n, Parts: []gpuops.WeightPart{{Buffer: a.buf, Rows: n}}}
	out := b.rec.alloc([]int{m, d}, "rows")
	dp, err := b.embedKernel(w.DType).Prepare(w, id.binding(), id.off, out.binding(), m, 1)
	b.rec.add(dp, err, PlanEntry{Layer: -1, Op: "rows", Kernel: "embed/" + dtypeName(w.DType), DType: b.act})
	return out
}
