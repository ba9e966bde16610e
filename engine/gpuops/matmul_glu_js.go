//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"
	"sync"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
)

// MatMulGLU is a gated feed-forward's gate and up projections and its GLU
// in one GEMV launch (kernels/matmul_glu.wgsl): one dispatch instead of
// three per layer in decode.
type MatMulGLU struct {
	c       *Context
	t       dtype.DType
	mu      sync.Mutex
	kernels map[int]*kernel // by unit
}

// NewMatMulGLU prepares the fused GEMV for gate and up weights of dtype t
// (compiled on first use).
func NewMatMulGLU(c *Context, t dtype.DType) *MatMulGLU {
	return &MatMulGLU{c: c, t: t, kernels: map[int]*kernel{}}
}

func (m *MatMulGLU) kernel(ctx context.Context, unit int) (*kernel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.kernels[unit]; ok {
		return k, nil
	}
	sh := shader{kernel: "matmul_glu", params: matmulGLUParams{}, weight: m.t, hasWeight: true, weight2: true,
		reduce: true, xdot: true, unit: unit}
	k, err := m.c.compile(ctx, sh, gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage, gpu.ReadOnlyStorage)
	if err != nil {
		return nil, err
	}
	m.kernels[unit] = k
	return k, nil
}

// Prepare computes y [rows, Out] = act(x·gateᵀ) * (x·upᵀ) for x [rows, In].
// gate and up must have one dtype and shape and be bound in the same
// chunks; Pairs says whether they are.
func (m *MatMulGLU) Prepare(ctx context.Context, gate, up Weight, x, y gpu.Binding, rows int, act Activation) (*Dispatch, error) {
	gc, uc, err := m.pair(gate, up)
	if err != nil {
		return nil, err
	}
	unit := matmulUnit(m.t, gate.In)
	k, err := m.kernel(ctx, unit)
	if err != nil {
		return nil, err
	}
	tiles := (rows + gemvActRows - 1) / gemvActRows
	d := &Dispatch{Label: "matmul_glu"}
	for i, ch := range gc {
		p := matmulGLUParams{K: uint32(gate.In), N: uint32(ch.rows), Rows: uint32(rows), Units: uint32(gate.In / unit),
			RowBytes: uint32(gate.RowBytes()), WBase: ch.wbase, WBase2: uc[i].wbase, LdY: uint32(gate.Out),
			YOff: uint32(ch.rowStart), Act: uint32(act)}
		groups := uint32((ch.rows + gemvRows - 1) / gemvRows * tiles)
		if err := d.add(k, p, groups, ch.binding, x, y, uc[i].binding); err != nil {
			d.Release()
			return nil, err
		}
	}
	return d, nil
}

// Pairs reports whether gate and up can run through Prepare.
func (m *MatMulGLU) Pairs(gate, up Weight) bool {
	_, _, err := m.pair(gate, up)
	return err == nil
}

func (m *MatMulGLU) pair(gate, up Weight) ([]chunk, []chunk, error) {
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
