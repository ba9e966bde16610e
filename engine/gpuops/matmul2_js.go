//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"
	"sync"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
)

// MatMul2 runs a gated feed-forward's gate and up projections (one dtype)
// with their GLU in one launch: a decode GEMV (kernels/matmul_glu.wgsl),
// which saves launches where a step is latency-bound, or for a prompt's
// rows the tiled matmul (matmul_tile.wgsl's GLU), which saves storing both
// projections and reading them back for the GLU.
type MatMul2 struct {
	c       *Context
	t       dtype.DType
	mu      sync.Mutex
	kernels map[matmul2Key]*kernel
}

// GLUStorage is the number of storage buffers the GLU GEMV binds (see
// Context.GemvNormFits).
const GLUStorage = 4

type matmul2Key struct {
	kernel string
	unit   int
	gemv   gemvShape
	norm   gemvPro // zero: none
	q8     bool    // 8-bit activations (Context.Q8Acts, or TiledQ8 when tiled)
	tile   tileShape
}

// NewMatMul2 prepares the GLU GEMV for weights of dtype t (compiled on
// first use).
func NewMatMul2(c *Context, t dtype.DType) *MatMul2 {
	return &MatMul2{c: c, t: t, kernels: map[matmul2Key]*kernel{}}
}

func (m *MatMul2) kernel(ctx context.Context, name string, unit int, gs gemvShape, params any, nm *GemvNorm, q8 bool) (*kernel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	entries := []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage, gpu.ReadOnlyStorage}
	ns := nm.shape(len(entries))
	key := matmul2Key{kernel: name, unit: unit, gemv: gs, q8: q8}
	if ns != nil {
		key.norm = *ns
	}
	if k, ok := m.kernels[key]; ok {
		return k, nil
	}
	entries = append(entries, nm.entries()...)
	sh := shader{kernel: name, params: params, weight: m.t, hasWeight: true, more: []dtype.DType{m.t}, reduce: true, xdot: true, unit: unit,
		consts: gs.consts(), pro: ns, q8: q8, libs: []string{"glu_act"}}
	k, err := m.c.compile(ctx, sh, entries...)
	if err != nil {
		return nil, err
	}
	m.kernels[key] = k
	return k, nil
}

// tiledKernel is the tiled GLU matmul (tiledShader).
func (m *MatMul2) tiledKernel(ctx context.Context, unit int, tile tileShape, q8 bool) (*kernel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := matmul2Key{kernel: "matmul_tiled", unit: unit, q8: q8, tile: tile}
	if k, ok := m.kernels[key]; ok {
		return k, nil
	}
	sh, entries, err := tiledShader(m.t, unit, tile, q8, true, 1)
	if err != nil {
		return nil, err
	}
	k, err := m.c.compile(ctx, sh, entries...)
	if err != nil {
		return nil, err
	}
	m.kernels[key] = k
	return k, nil
}

// PrepareGLU computes y [rows, Out] = act(x·gateᵀ) * (x·upᵀ) for x [rows,
// In], each product rounded to the activation type first as separate
// matmuls would store it: the GLU GEMV below TiledMinRows rows, the tiled
// matmul from there (the integer kernel where TiledQ8 says, after the
// launch that quantizes x). gate and up must pass GLUPairs.
func (m *MatMul2) PrepareGLU(ctx context.Context, gate, up Weight, x, y gpu.Binding, rows int, act Activation) (*Dispatch, error) {
	return m.prepareGLU(ctx, gate, up, x, y, rows, act, nil, false)
}

// PrepareGLUQ8In is PrepareGLU of one row whose activations xq are 8-bit
// already (NormParams.Q8Out): for weights Context.Q8Acts accepts.
func (m *MatMul2) PrepareGLUQ8In(ctx context.Context, gate, up Weight, xq, y gpu.Binding, act Activation) (*Dispatch, error) {
	return m.prepareGLU(ctx, gate, up, xq, y, 1, act, nil, true)
}

// PrepareGLUQ8Rows is PrepareGLU of rows ≥ TiledMinRows rows whose
// activations xq are 8-bit already (PrepareQuantizeRows), for weights
// TiledQ8 accepts: q/k/v or gate and up share one quantize launch.
func (m *MatMul2) PrepareGLUQ8Rows(ctx context.Context, gate, up Weight, xq, y gpu.Binding, rows int, act Activation) (*Dispatch, error) {
	if rows < TiledMinRows || !m.c.TiledQ8(gate.In, m.t) {
		return nil, fmt.Errorf("gpuops: no tiled GLU matmul of %d rows reads 8-bit activations of %v weights {%d, %d}", rows, m.t, gate.In, gate.Out)
	}
	return m.prepareGLU(ctx, gate, up, xq, y, rows, act, nil, true)
}

// PrepareGLUNorm is PrepareGLU of one activation row that runs the
// residual add and norm before it (see GemvNorm) and GLUs norm(S).
func (m *MatMul2) PrepareGLUNorm(ctx context.Context, gate, up Weight, nm GemvNorm, y gpu.Binding, act Activation) (*Dispatch, error) {
	return m.prepareGLU(ctx, gate, up, gpu.Binding{}, y, 1, act, &nm, false)
}

func (m *MatMul2) prepareGLU(ctx context.Context, gate, up Weight, x, y gpu.Binding, rows int, act Activation, nm *GemvNorm, pre bool) (*Dispatch, error) {
	gc, uc, err := m.gluChunks(gate, up)
	if err != nil {
		return nil, err
	}
	if err := nm.check(gate.In, rows); err != nil {
		return nil, err
	}
	unit := matmulUnit(m.t, gate.In)
	if rows >= TiledMinRows {
		return m.prepareGLUTiled(ctx, gate, gc, uc, unit, x, y, rows, act, pre)
	}
	in, err := m.c.q8For(pre, rows, gate.In, 2*gate.Out, m.t)
	if err != nil {
		return nil, err
	}
	in.q8 = in.q8 && nm == nil
	gs := newGemvShapeQ8(unit, gate.In/unit, gate.Out, rows, in.q8, m.t)
	k, err := m.kernel(ctx, "matmul_glu", unit, gs, matmulGLUParams{}, nm, in.q8)
	if err != nil {
		return nil, err
	}
	d := &Dispatch{Label: "matmul_glu"}
	if x, err = in.input(m.c, d, x, gate.In); err != nil {
		d.Release()
		return nil, err
	}
	for i, ch := range gc {
		p := matmulGLUParams{K: uint32(gate.In), N: uint32(ch.rows), Rows: uint32(rows), Units: uint32(gate.In / unit),
			RowBytes: uint32(gate.RowBytes()), WBase: ch.wbase, WBase2: uc[i].wbase, LdY: uint32(gate.Out),
			YOff: uint32(ch.rowStart), Act: uint32(act), gemvNormParams: nm.uniform()}
		// With several chunks, each launch stores the same S (A is not
		// written): harmless.
		if err := d.add(k, p, gemvGroups(ch.rows, rows, gs.lanes), append([]gpu.Binding{ch.binding, nm.x(x), y, uc[i].binding}, nm.bindings()...)...); err != nil {
			d.Release()
			return nil, err
		}
	}
	return d, nil
}

// GLUPairs reports whether gate and up can run through PrepareGLU: one
// dtype and shape, bound in the same chunks.
func (m *MatMul2) GLUPairs(gate, up Weight) bool {
	_, _, err := m.gluChunks(gate, up)
	return err == nil
}

func (m *MatMul2) gluChunks(gate, up Weight) ([]chunk, []chunk, error) {
	if gate.DType != m.t || up.DType != m.t || gate.In != up.In || gate.Out != up.Out {
		return nil, nil, fmt.Errorf("gpuops: matmul_glu of %v {%d, %d} and %v {%d, %d} (compiled for %v)",
			gate.DType, gate.In, gate.Out, up.DType, up.In, up.Out, m.t)
	}
	gc, err := m.c.chunks(gate)
	if err != nil {
		return nil, nil, err
	}
	uc, err := m.c.chunks(up)
	if err != nil {
		return nil, nil, err
	}
	if len(gc) != len(uc) {
		return nil, nil, fmt.Errorf("gpuops: matmul_glu: gate and up are bound in %d and %d chunks", len(gc), len(uc))
	}
	for i := range gc {
		if gc[i].rowStart != uc[i].rowStart || gc[i].rows != uc[i].rows {
			return nil, nil, fmt.Errorf("gpuops: matmul_glu: gate and up chunks differ at %d", i)
		}
	}
	return gc, uc, nil
}

// prepareGLUTiled is prepareGLU for TiledMinRows rows or more: one tiled
// launch per chunk pair, never split over k (gate and up write no
// partials), after the launch that quantizes x where the integer kernel
// runs and x is not 8-bit already (pre).
func (m *MatMul2) prepareGLUTiled(ctx context.Context, gate Weight, gc, uc []chunk, unit int, x, y gpu.Binding, rows int, act Activation, pre bool) (*Dispatch, error) {
	q8 := m.c.TiledQ8(gate.In, m.t)
	tile := tileFor()
	k, err := m.tiledKernel(ctx, unit, tile, q8)
	if err != nil {
		return nil, err
	}
	d := &Dispatch{Label: "matmul_glu"}
	fail := func(err error) (*Dispatch, error) { d.Release(); return nil, err }
	if x, err = m.c.tiledRows(d, x, gate.In, rows, q8, pre); err != nil {
		return fail(err)
	}
	part, err := m.c.noPartials()
	if err != nil {
		return fail(err)
	}
	for i, ch := range gc {
		p := tiledParams{
			K: uint32(gate.In), N: uint32(2 * ch.rows), Rows: uint32(rows), RowBytes: uint32(gate.RowBytes()),
			WBase: ch.wbase, WBase2: uc[i].wbase, LdY: uint32(gate.Out), YOff: uint32(ch.rowStart),
			Splits: 1, KSlice: uint32(gate.In), Act: uint32(act),
		}
		if err := d.add(k, p, tile.groups(rows, 2*ch.rows), ch.binding, x, y, uc[i].binding, part); err != nil {
			return fail(err)
		}
	}
	return d, nil
}
