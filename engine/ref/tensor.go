// Package ref is the pure-Go CPU reference backend: every op of arch.Ops
// computed eagerly in float32, for clarity over speed. It is the oracle the
// WebGPU kernels are tested against and the `--backend cpu` of the CLI.
// Weights are dequantized to float32 at load; the KV cache is float32.
//
// Ops panic on shape mismatches: those are programming errors in a forward
// pass (the loader checks the model first); callers that run untrusted
// models recover (arch.Runner does).
package ref

import (
	"fmt"
	"slices"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/quant"
)

// Tensor is a CPU tensor: float32 values or int32 indices.
type Tensor struct {
	shape []int
	f     []float32
	i     []int32
	dtype dtype.DType // a weight's stored type (F32 otherwise)
}

func (t *Tensor) Shape() []int { return t.shape }

// Floats returns the tensor's float32 values (shared, not copied).
func (t *Tensor) Floats() []float32 { return t.f }

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Backend is the CPU reference backend.
type Backend struct {
	llamaCpp bool // round activations and GELU like llama.cpp
	flashF16 bool // F16 KV cache and llama.cpp's CPU flash attention
}

// New returns a CPU backend.
func New() *Backend { return &Backend{} }

// NewLlamaCppRounding returns a CPU backend that also rounds where llama.cpp's
// CPU backend rounds, to compare with it tightly (the oracle tests): before
// a matmul, activations go through the weight's vec-dot type (Q8_0 for
// Q4_0/Q8_0 weights, Q8_K for K-quants, F16 for F16, BF16 for BF16), and
// GELU is read from a table of f16 results indexed by the f16-rounded input
// (ggml's GGML_GELU_FP16). The default backend computes in exact f32.
func NewLlamaCppRounding() *Backend { return &Backend{llamaCpp: true} }

// NewLlamaCppDefaults is NewLlamaCppRounding plus what llama.cpp's default
// CPU context adds: an F16 KV cache and flash attention, which keeps q and
// the running weighted sum of v in f16 (see attendFlashF16). Figures quoted
// from a default llama.cpp run (../shared/models/README.md) need this to
// match better than ~5e-3.
func NewLlamaCppDefaults() *Backend { return &Backend{llamaCpp: true, flashF16: true} }

var _ arch.Backend = (*Backend)(nil)

func (*Backend) Weight(info model.TensorInfo, raw []byte) (arch.Tensor, error) {
	shape := make([]int, len(info.Shape))
	for i, d := range info.Shape {
		shape[i] = int(d)
	}
	f, err := quant.ToFloat32(info.DType, raw, numel(shape))
	if err != nil {
		return nil, err
	}
	return &Tensor{shape: shape, f: f, dtype: info.DType}, nil
}

func (*Backend) Floats(data []float32, shape ...int) arch.Tensor {
	mustNumel(len(data), shape)
	return &Tensor{shape: slices.Clone(shape), f: slices.Clone(data)}
}

func (*Backend) Ints(data []int32, shape ...int) arch.Tensor {
	mustNumel(len(data), shape)
	return &Tensor{shape: slices.Clone(shape), i: slices.Clone(data)}
}

func (*Backend) Read(t arch.Tensor) ([]float32, error) {
	c, ok := t.(*Tensor)
	if !ok {
		return nil, fmt.Errorf("ref: tensor %T is not a CPU tensor", t)
	}
	if c.f == nil {
		out := make([]float32, len(c.i))
		for j, v := range c.i {
			out[j] = float32(v)
		}
		return out, nil
	}
	return slices.Clone(c.f), nil
}

func mustNumel(n int, shape []int) {
	if numel(shape) != n {
		panic(fmt.Sprintf("ref: %d values do not fill shape %v", n, shape))
	}
}

func f32(t arch.Tensor) *Tensor {
	c, ok := t.(*Tensor)
	if !ok || c.f == nil {
		panic(fmt.Sprintf("ref: want a float tensor, got %T", t))
	}
	return c
}

func i32(t arch.Tensor) []int32 {
	c, ok := t.(*Tensor)
	if !ok || c.i == nil {
		panic(fmt.Sprintf("ref: want an int32 tensor, got %T", t))
	}
	return c.i
}

// last is the size of the innermost dimension; rows is everything before it.
func last(t *Tensor) (rows, n int) {
	n = t.shape[len(t.shape)-1]
	return len(t.f) / n, n
}

func like(t *Tensor) *Tensor {
	return &Tensor{shape: slices.Clone(t.shape), f: make([]float32, len(t.f))}
}
