//go:build js && wasm

package runtime

import (
	"fmt"
	"slices"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/gpuops"
)

// Tensor is a GPU tensor handle: a range of a buffer plus what wrote it.
type Tensor struct {
	shape []int
	// dt is what the buffer holds: "f32"/"f16" activations (or f32
	// constants), "i32" indices, or a packed weight's dtype name.
	dt   string
	buf  *gpu.Buffer
	off  int // first element (int32 inputs in a step buffer)
	w    *gpuops.Weight
	name string // the weight's tensor name, else the op that wrote it
	// host keeps constants the kernels take as parameters (RoPE factors).
	host []float32
	// ver is the buffer's version when this handle was made; an in-place
	// op (RoPE) bumps it, so a stale handle cannot be read by mistake.
	ver int
}

var _ arch.Tensor = (*Tensor)(nil)

func (t *Tensor) Shape() []int { return t.shape }

// Name is the weight's tensor name or the op that wrote the tensor.
func (t *Tensor) Name() string { return t.name }

func (t *Tensor) numel() int { return numel(t.shape) }

func (t *Tensor) binding() gpu.Binding { return gpu.Binding{Buffer: t.buf} }

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func gt(t arch.Tensor) *Tensor {
	g, ok := t.(*Tensor)
	if !ok {
		panic(fmt.Errorf("runtime: tensor %T is not a WebGPU tensor", t))
	}
	return g
}

func withShape(t *Tensor, shape []int) *Tensor {
	c := *t
	c.shape = slices.Clone(shape)
	return &c
}
