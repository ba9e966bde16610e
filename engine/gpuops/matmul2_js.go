//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"
	"sync"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
)

// MatMul2 runs decode GEMVs that read two weights of one dtype in one
// launch: a gated feed-forward's gate and up projections with their GLU
// (kernels/matmul_glu.wgsl), or two projections of one input such as
// queries and keys (kernels/matmul_pair.wgsl). Each saves launches per
// layer where a step is latency-bound.
type MatMul2 struct {
	c       *Context
	t       dtype.DType
	mu      sync.Mutex
	kernels map[matmul2Key]*kernel
}

type matmul2Key struct {
	kernel string
	unit   int
}

// NewMatMul2 prepares the two-weight GEMVs for weights of dtype t
// (compiled on first use).
func NewMatMul2(c *Context, t dtype.DType) *MatMul2 {
	return &MatMul2{c: c, t: t, kernels: map[matmul2Key]*kernel{}}
}

func (m *MatMul2) kernel(ctx context.Context, name string, unit int, params any) (*kernel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := matmul2Key{name, unit}
	if k, ok := m.kernels[key]; ok {
		return k, nil
	}
	entries := []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage, gpu.ReadOnlyStorage}
	if name == "matmul_pair" {
		entries = append(entries, gpu.Storage)
	}
	sh := shader{kernel: name, params: params, weight: m.t, hasWeight: true, weight2: true, reduce: true, xdot: true, unit: unit}
	k, err := m.c.compile(ctx, sh, entries...)
	if err != nil {
		return nil, err
	}
	m.kernels[key] = k
	return k, nil
}

// PrepareGLU computes y [rows, Out] = act(x·gateᵀ) * (x·upᵀ) for x [rows,
// In], each product rounded to the activation type first as separate
// matmuls would store it. gate and up must pass GLUPairs.
func (m *MatMul2) PrepareGLU(ctx context.Context, gate, up Weight, x, y gpu.Binding, rows int, act Activation) (*Dispatch, error) {
	gc, uc, err := m.gluChunks(gate, up)
	if err != nil {
		return nil, err
	}
	unit := matmulUnit(m.t, gate.In)
	k, err := m.kernel(ctx, "matmul_glu", unit, matmulGLUParams{})
	if err != nil {
		return nil, err
	}
	d := &Dispatch{Label: "matmul_glu"}
	for i, ch := range gc {
		p := matmulGLUParams{K: uint32(gate.In), N: uint32(ch.rows), Rows: uint32(rows), Units: uint32(gate.In / unit),
			RowBytes: uint32(gate.RowBytes()), WBase: ch.wbase, WBase2: uc[i].wbase, LdY: uint32(gate.Out),
			YOff: uint32(ch.rowStart), Act: uint32(act)}
		if err := d.add(k, p, gemvGroups(ch.rows, rows), ch.binding, x, y, uc[i].binding); err != nil {
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

// PreparePair computes y1 [rows, w1.Out] = x·w1ᵀ and y2 [rows, w2.Out] =
// x·w2ᵀ for x [rows, In] in one launch. w1 and w2 must pass Pairs.
func (m *MatMul2) PreparePair(ctx context.Context, w1, w2 Weight, x, y1, y2 gpu.Binding, rows int) (*Dispatch, error) {
	c1, c2, err := m.pairChunks(w1, w2)
	if err != nil {
		return nil, err
	}
	unit := matmulUnit(m.t, w1.In)
	k, err := m.kernel(ctx, "matmul_pair", unit, matmulPairParams{})
	if err != nil {
		return nil, err
	}
	d := &Dispatch{Label: "matmul_pair"}
	p := matmulPairParams{K: uint32(w1.In), N: uint32(w1.Out), N2: uint32(w2.Out), Rows: uint32(rows), Units: uint32(w1.In / unit),
		RowBytes: uint32(w1.RowBytes()), WBase: c1.wbase, WBase2: c2.wbase}
	if err := d.add(k, p, gemvGroups(w1.Out+w2.Out, rows), c1.binding, x, y1, c2.binding, y2); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}

// Pairs reports whether w1 and w2 can run through PreparePair: one dtype
// and row length, each bound whole.
func (m *MatMul2) Pairs(w1, w2 Weight) bool {
	_, _, err := m.pairChunks(w1, w2)
	return err == nil
}

func (m *MatMul2) pairChunks(w1, w2 Weight) (chunk, chunk, error) {
	if w1.DType != m.t || w2.DType != m.t || w1.In != w2.In {
		return chunk{}, chunk{}, fmt.Errorf("gpuops: matmul_pair of %v {%d, %d} and %v {%d, %d} (compiled for %v)",
			w1.DType, w1.In, w1.Out, w2.DType, w2.In, w2.Out, m.t)
	}
	c1, err := m.c.chunks(w1)
	if err != nil {
		return chunk{}, chunk{}, err
	}
	c2, err := m.c.chunks(w2)
	if err != nil {
		return chunk{}, chunk{}, err
	}
	if len(c1) != 1 || len(c2) != 1 {
		return chunk{}, chunk{}, fmt.Errorf("gpuops: matmul_pair needs weights bound whole (%d and %d chunks)", len(c1), len(c2))
	}
	return c1[0], c2[0], nil
}

// pairRows is the weight rows per workgroup of matmul_glu and matmul_pair.
const pairRows = 8

// gemvGroups is the workgroup count of their layout for n weight rows and
// rows activation rows.
func gemvGroups(n, rows int) uint32 {
	return uint32((n + pairRows - 1) / pairRows * ((rows + gemvActRows - 1) / gemvActRows))
}
