//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
)

// MoE is a mixture-of-experts gated feed-forward: router matmul, top-k
// routing, then only the selected experts' gate/up/down GEMVs (expert ids
// read from a GPU buffer), weighted and summed.
type MoE struct {
	c              *Context
	route, combine *kernel
	elt            *Eltwise
}

// MoEShape is one MoE layer's static settings.
type MoEShape struct {
	Rows, Hidden, FFN, Experts, Used int
	NormTopK                         bool
	Act                              Activation
}

// NewMoE compiles the routing and combine kernels (expert matmuls compile
// per weight dtype in Prepare).
func NewMoE(ctx context.Context, c *Context) (*MoE, error) {
	route, err := c.compile(ctx, shader{kernel: "moe_route", params: moeRouteParams{}},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	combine, err := c.compile(ctx, shader{kernel: "moe_combine", params: moeCombineParams{}},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	elt, err := NewEltwise(ctx, c)
	if err != nil {
		return nil, err
	}
	return &MoE{c: c, route: route, combine: combine, elt: elt}, nil
}

// expertMatmul compiles the expert GEMV for dtype t (cached by the Context).
func (m *MoE) expertMatmul(ctx context.Context, t dtype.DType) (*kernel, error) {
	return m.c.compile(ctx, shader{kernel: "moe_matmul", params: moeMatmulParams{}, weight: t, hasWeight: true, reduce: true},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage)
}

// Prepare computes out [Rows, Hidden] from x [Rows, Hidden]. router is
// {Hidden, Experts}; gate and up are {Hidden, FFN·Experts} (ggml
// {hidden, ffn, n_expert}: each expert's FFN rows in turn), down
// {FFN, Hidden·Experts}. Scratch buffers are owned by the dispatch.
func (m *MoE) Prepare(ctx context.Context, x, out gpu.Binding, router, gate, up, down Weight, s MoEShape) (*Dispatch, error) {
	if s.Used <= 0 || s.Used > s.Experts || s.Experts > 256 {
		return nil, fmt.Errorf("gpuops: MoE with %d of %d experts is not supported", s.Used, s.Experts)
	}
	if router.In != s.Hidden || router.Out != s.Experts || gate.In != s.Hidden || up.In != s.Hidden ||
		gate.Out != s.FFN*s.Experts || up.Out != s.FFN*s.Experts || down.In != s.FFN || down.Out != s.Hidden*s.Experts {
		return nil, fmt.Errorf("gpuops: MoE weights do not match %+v", s)
	}
	d := &Dispatch{Label: "moe"}
	fail := func(err error) (*Dispatch, error) { d.Release(); return nil, err }
	vrows := s.Rows * s.Used
	act := func(label string, n int) (gpu.Binding, error) {
		b, err := d.scratch(m.c, label, m.c.ActBytes(n))
		if err != nil {
			return gpu.Binding{}, err
		}
		return b.Binding(), nil
	}
	logits, err := act("router logits", s.Rows*s.Experts)
	if err != nil {
		return fail(err)
	}
	sel, err := d.scratch(m.c, "experts", uint64(4*vrows))
	if err != nil {
		return fail(err)
	}
	wts, err := d.scratch(m.c, "weights", uint64(4*vrows))
	if err != nil {
		return fail(err)
	}
	g, err := act("gate", vrows*s.FFN)
	if err != nil {
		return fail(err)
	}
	u, err := act("up", vrows*s.FFN)
	if err != nil {
		return fail(err)
	}
	h, err := act("act", vrows*s.FFN)
	if err != nil {
		return fail(err)
	}
	y, err := act("down", vrows*s.Hidden)
	if err != nil {
		return fail(err)
	}

	rmm, err := NewMatMul(ctx, m.c, router.DType)
	if err != nil {
		return fail(err)
	}
	sub, err := rmm.Prepare(router, x, logits, s.Rows)
	if err != nil {
		return fail(err)
	}
	d.absorb(sub)
	var norm uint32
	if s.NormTopK {
		norm = 1
	}
	if err := d.add(m.route, moeRouteParams{Rows: uint32(s.Rows), Experts: uint32(s.Experts), Used: uint32(s.Used), Norm: norm},
		groupsFor(s.Rows), logits, sel.Binding(), wts.Binding()); err != nil {
		return fail(err)
	}
	for _, p := range []struct {
		w    Weight
		rows int // output rows per expert
		in   gpu.Binding
		out  gpu.Binding
		xDiv int
	}{{gate, s.FFN, x, g, s.Used}, {up, s.FFN, x, u, s.Used}} {
		if err := m.addExperts(ctx, d, p.w, p.rows, s.Experts, vrows, p.xDiv, p.in, sel.Binding(), p.out); err != nil {
			return fail(err)
		}
	}
	sub, err = m.elt.PrepareGLU(g, u, h, vrows*s.FFN, s.Act)
	if err != nil {
		return fail(err)
	}
	d.absorb(sub)
	if err := m.addExperts(ctx, d, down, s.Hidden, s.Experts, vrows, 1, h, sel.Binding(), y); err != nil {
		return fail(err)
	}
	if err := d.add(m.combine, moeCombineParams{Rows: uint32(s.Rows), Hidden: uint32(s.Hidden), Used: uint32(s.Used)},
		groupsFor(s.Rows*s.Hidden), y, wts.Binding(), out); err != nil {
		return fail(err)
	}
	return d, nil
}

// addExperts adds the expert GEMV launches of w (experts of rowsPer rows
// each), one per chunk of whole experts.
func (m *MoE) addExperts(ctx context.Context, d *Dispatch, w Weight, rowsPer, experts, vrows, xDiv int, x, sel, y gpu.Binding) error {
	k, err := m.expertMatmul(ctx, w.DType)
	if err != nil {
		return err
	}
	// View each expert as one row of In·rowsPer elements, so chunks hold
	// whole experts.
	ew := Weight{DType: w.DType, In: w.In * rowsPer, Out: experts}
	for _, p := range w.Parts {
		if p.Rows%rowsPer != 0 {
			return fmt.Errorf("gpuops: an expert weight part of %d rows splits an expert of %d rows", p.Rows, rowsPer)
		}
		ew.Parts = append(ew.Parts, WeightPart{Buffer: p.Buffer, Offset: p.Offset, Rows: p.Rows / rowsPer})
	}
	chunks, err := m.c.chunks(ew)
	if err != nil {
		return err
	}
	for _, ch := range chunks {
		p := moeMatmulParams{
			K: uint32(w.In), N: uint32(rowsPer), VRows: uint32(vrows), XDiv: uint32(xDiv), Units: uint32(w.In / unitOf(w.DType)),
			RowBytes: uint32(w.RowBytes()), ExpertBytes: uint32(ew.RowBytes()), WBase: ch.wbase,
			ExpStart: uint32(ch.rowStart), ExpCount: uint32(ch.rows),
		}
		if err := d.add(k, p, uint32(vrows*rowsPer), ch.binding, x, sel, y); err != nil {
			return err
		}
	}
	return nil
}
