//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
)

// MatMulQKV runs three decode GEMVs of one input in one launch
// (kernels/matmul_qkv.wgsl): attention's query, key and value projections,
// which share their input and row length but, in mixed quantizations, not
// always their dtype. It saves two launches per layer.
type MatMulQKV struct {
	c       *Context
	mu      sync.Mutex
	kernels map[qkvKey]*kernel
}

type qkvKey struct {
	types [3]dtype.DType
	unit  int
	gemv  gemvShape
	norm  gemvPro // zero: none
	q8    bool    // 8-bit activations (Context.Q8Acts)
}

// qkvEntries are the kernel's own bindings.
var qkvEntries = []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage,
	gpu.ReadOnlyStorage, gpu.Storage, gpu.ReadOnlyStorage, gpu.Storage}

// QKVStorage is the number of storage buffers the q/k/v GEMV binds (see
// Context.GemvNormFits).
const QKVStorage = 7

// NewMatMulQKV prepares the kernels (compiled on first use, per dtype triple).
func NewMatMulQKV(c *Context) *MatMulQKV {
	return &MatMulQKV{c: c, kernels: map[qkvKey]*kernel{}}
}

func (m *MatMulQKV) kernel(ctx context.Context, key qkvKey, nm *GemvNorm) (*kernel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ns := nm.shape(len(qkvEntries))
	if ns != nil {
		key.norm = *ns
	}
	if k, ok := m.kernels[key]; ok {
		return k, nil
	}
	sh := shader{kernel: "matmul_qkv", params: matmulQKVParams{}, weight: key.types[0], hasWeight: true,
		more: key.types[1:], reduce: true, xdot: true, unit: key.unit, consts: key.gemv.consts(), pro: ns, q8: key.q8}
	k, err := m.c.compile(ctx, sh, append(slices.Clone(qkvEntries), nm.entries()...)...)
	if err != nil {
		return nil, err
	}
	m.kernels[key] = k
	return k, nil
}

// Prepare computes y[i] [rows, w[i].Out] = x·w[i]ᵀ for x [rows, In] and
// the three weights in one launch. The weights must pass Fits.
func (m *MatMulQKV) Prepare(ctx context.Context, w [3]Weight, x gpu.Binding, y [3]gpu.Binding, rows int) (*Dispatch, error) {
	return m.prepare(ctx, w, x, y, rows, nil, false)
}

// PrepareQ8In is Prepare of one row whose activations xq are 8-bit
// already (NormParams.Q8Out): for weights Context.Q8Acts accepts.
func (m *MatMulQKV) PrepareQ8In(ctx context.Context, w [3]Weight, xq gpu.Binding, y [3]gpu.Binding) (*Dispatch, error) {
	return m.prepare(ctx, w, xq, y, 1, nil, true)
}

// PrepareNorm is Prepare of one activation row that runs the residual add
// and norm before it (see GemvNorm) and projects norm(S).
func (m *MatMulQKV) PrepareNorm(ctx context.Context, w [3]Weight, nm GemvNorm, y [3]gpu.Binding) (*Dispatch, error) {
	return m.prepare(ctx, w, gpu.Binding{}, y, 1, &nm, false)
}

func (m *MatMulQKV) prepare(ctx context.Context, w [3]Weight, x gpu.Binding, y [3]gpu.Binding, rows int, nm *GemvNorm, pre bool) (*Dispatch, error) {
	ch, unit, err := m.chunks(w)
	if err != nil {
		return nil, err
	}
	if err := nm.check(w[0].In, rows); err != nil {
		return nil, err
	}
	total := w[0].Out + w[1].Out + w[2].Out
	units := w[0].In / unit
	types := [3]dtype.DType{w[0].DType, w[1].DType, w[2].DType}
	in, err := m.c.q8For(pre, rows, w[0].In, total, types[:]...)
	if err != nil {
		return nil, err
	}
	in.q8 = in.q8 && nm == nil
	key := qkvKey{types: types, unit: unit, gemv: newGemvShapeQ8(unit, units, total, rows, in.q8, types[:]...), q8: in.q8}
	k, err := m.kernel(ctx, key, nm)
	if err != nil {
		return nil, err
	}
	d := &Dispatch{Label: "matmul_qkv"}
	if x, err = in.input(m.c, d, x, w[0].In); err != nil {
		d.Release()
		return nil, err
	}
	p := matmulQKVParams{K: uint32(w[0].In), N: uint32(w[0].Out), N2: uint32(w[1].Out), N3: uint32(w[2].Out),
		Rows: uint32(rows), Units: uint32(units), RowBytes: uint32(w[0].RowBytes()), RowBytes2: uint32(w[1].RowBytes()),
		RowBytes3: uint32(w[2].RowBytes()), WBase: ch[0].wbase, WBase2: ch[1].wbase, WBase3: ch[2].wbase, gemvNormParams: nm.uniform()}
	binds := append([]gpu.Binding{ch[0].binding, nm.x(x), y[0], ch[1].binding, y[1], ch[2].binding, y[2]}, nm.bindings()...)
	if err := d.add(k, p, gemvGroups(total, rows, key.gemv.lanes), binds...); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}

// Fits reports whether w can run through Prepare: dtypes the kernels read,
// one row length and weight unit, each weight bound whole.
func (m *MatMulQKV) Fits(w [3]Weight) bool {
	_, _, err := m.chunks(w)
	return err == nil
}

func (m *MatMulQKV) chunks(w [3]Weight) ([3]chunk, int, error) {
	var ch [3]chunk
	unit := matmulUnit(w[0].DType, w[0].In)
	for i, wi := range w {
		if !WeightSupported(wi.DType) || wi.In != w[0].In || matmulUnit(wi.DType, wi.In) != unit {
			return ch, 0, fmt.Errorf("gpuops: matmul_qkv of %v {%d, %d}, %v {%d, %d} and %v {%d, %d}: one row length and unit needed",
				w[0].DType, w[0].In, w[0].Out, w[1].DType, w[1].In, w[1].Out, w[2].DType, w[2].In, w[2].Out)
		}
		c, err := m.c.chunks(wi)
		if err != nil {
			return ch, 0, err
		}
		if len(c) != 1 {
			return ch, 0, fmt.Errorf("gpuops: matmul_qkv needs weights bound whole (weight %d is in %d chunks)", i+1, len(c))
		}
		ch[i] = c[0]
	}
	return ch, unit, nil
}
