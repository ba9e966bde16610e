//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// Activation selects the gate function of GLU.
type Activation uint32

const (
	SiLU     Activation = 0
	GELUTanh Activation = 1
)

// Eltwise holds the element-wise kernels: add, GLU, scale, softcap, and the
// row gather.
type Eltwise struct {
	c                        *Context
	add, glu, scale, softcap *kernel
	rows                     *kernel
}

// NewEltwise compiles the element-wise kernels.
func NewEltwise(ctx context.Context, c *Context) (*Eltwise, error) {
	e := &Eltwise{c: c}
	var err error
	binary := []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage}
	unary := []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage}
	for _, k := range []struct {
		dst     **kernel
		name    string
		entries []gpu.BindingType
		libs    []string
	}{{&e.add, "eltwise_add", binary, nil}, {&e.glu, "eltwise_glu", binary, []string{"glu_act"}}, {&e.scale, "eltwise_scale", unary, nil},
		{&e.softcap, "eltwise_softcap", unary, nil}} {
		if *k.dst, err = c.compile(ctx, shader{kernel: k.name, params: eltParams{}, libs: k.libs}, k.entries...); err != nil {
			return nil, err
		}
	}
	if e.rows, err = c.compile(ctx, shader{kernel: "eltwise_rows", params: rowsParams{}},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Eltwise) prepare(label string, k *kernel, p eltParams, bindings ...gpu.Binding) (*Dispatch, error) {
	if p.N == 0 {
		return nil, fmt.Errorf("gpuops: %s of no elements", label)
	}
	d := &Dispatch{Label: label}
	if err := d.add(k, p, groupsFor(int(p.N)), bindings...); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}

// PrepareAdd: out = a + b over n elements (out must not alias a or b).
func (e *Eltwise) PrepareAdd(a, b, out gpu.Binding, n int) (*Dispatch, error) {
	return e.prepare("add", e.add, eltParams{N: uint32(n)}, a, b, out)
}

// PrepareGLU: out = act(gate) * up over n elements.
func (e *Eltwise) PrepareGLU(gate, up, out gpu.Binding, n int, act Activation) (*Dispatch, error) {
	return e.prepare("glu", e.glu, eltParams{N: uint32(n), Act: uint32(act)}, gate, up, out)
}

// PrepareScale: out = x * s over n elements.
func (e *Eltwise) PrepareScale(x, out gpu.Binding, n int, s float32) (*Dispatch, error) {
	return e.prepare("scale", e.scale, eltParams{N: uint32(n), S: s}, x, out)
}

// PrepareSoftcap: out = tanh(x/c)*c over n elements.
func (e *Eltwise) PrepareSoftcap(x, out gpu.Binding, n int, c float32) (*Dispatch, error) {
	return e.prepare("softcap", e.softcap, eltParams{N: uint32(n), C: c}, x, out)
}

// PrepareRows gathers rows of x [*, width]: out[j] = x[idx[idxOff+j]] for
// j < m (int32 indices read from idx at run time, e.g. Batch.Out).
func (e *Eltwise) PrepareRows(x, idx gpu.Binding, idxOff int, out gpu.Binding, m, width int) (*Dispatch, error) {
	if m*width == 0 {
		return nil, fmt.Errorf("gpuops: gather of no elements")
	}
	d := &Dispatch{Label: "rows"}
	p := rowsParams{N: uint32(m * width), Width: uint32(width), IdxOff: uint32(idxOff)}
	if err := d.add(e.rows, p, groupsFor(m*width), x, idx, out); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}
