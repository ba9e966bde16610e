//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
)

// Q8Fixed, when non-zero, overrides where decode GEMVs read 8-bit
// activations (1: wherever the kernels can, −1: nowhere; tests and
// benchmarks).
var Q8Fixed = 0

// q8MinWork is the least outputs × row length that takes 8-bit
// activations: below it the quantize launch costs more than the GEMV saves
// (on the H100: gemma-2-2b's o projection 2048→2304 6.8 → 7.6 µs with it,
// its down projection 9216→2304 20.7 → 15.4, gemma-3-270m's GEMVs slower).
const q8MinWork = 1 << 23

// Q8Acts reports whether a GEMV over rows of k elements of weights of
// types, for rows activation rows, reads its activations as 8-bit integers
// (q8_quads.wgsl) and dots them four at a time (dot4I8Packed): on GPUs
// whose WGSL has the packed dot product, for one activation row (decode).
// The weights' integer values times the activations' in one instruction
// take a fraction of the float decoding's instructions, which bound the
// large GEMVs (an LM head's) well below the memory bandwidth: on the H100
// gemma-3-270m's Q5_0 LM head ran 135 → 62 µs, gemma-2-2b's Q4_K one
// 349 → 166, its Q6_K down projection 45 → 22. llama.cpp rounds
// activations so for its quantized dot products too; a tiny random model's
// logits moved by 1.5–3.5% of their spread (TestQ8Activations). A software
// adapter keeps the float path.
func (c *Context) Q8Acts(rows, k, n int, types ...dtype.DType) bool {
	if Q8Fixed < 0 || q8Shape(rows, k, types...) != nil || !c.Dev.Info.HasLanguageFeature(gpu.LanguagePacked4x8) {
		return false
	}
	if Q8Fixed > 0 {
		return true
	}
	for _, t := range types {
		if t == dtype.Q8_0 && n < gemvHeadRows {
			// Q8_0's float path already streams its wide GEMVs (gemma-2-2b's
			// gate/up: 27.9 µs either way), so the quantize launch would
			// not pay there: GPU per token 2.67 → 2.71 ms with it.
			return false
		}
	}
	return k*n >= q8MinWork && !c.Dev.Info.Adapter.IsFallbackAdapter
}

// TiledQ8Fixed, when non-zero, overrides where tiled (prompt) matmuls
// read 8-bit activations (1: wherever the kernels can, −1: nowhere; tests
// and benchmarks), and TiledQ8StepFixed their k step (32 or 64).
var TiledQ8Fixed, TiledQ8StepFixed = 0, 0

// TiledQ8 reports whether a tiled matmul over rows of k elements of
// weights of type t quantizes its activation rows to 8 bits first and runs
// the integer tiled kernel (kernels/matmul_tiled_q8.wgsl): on GPUs whose
// WGSL has the packed dot product, for the quantized types with a wdot
// against 8-bit activations, as decode's large GEMVs do and as llama.cpp's
// quantized matmuls round activations. A software adapter keeps the float
// path.
func (c *Context) TiledQ8(k int, t dtype.DType) bool {
	if TiledQ8Fixed < 0 || !q8Types[t] || k%32 != 0 || !c.Dev.Info.HasLanguageFeature(gpu.LanguagePacked4x8) {
		return false
	}
	return TiledQ8Fixed > 0 || !c.Dev.Info.Adapter.IsFallbackAdapter
}

// tiledQ8Step is the integer tiled kernel's step over k (TK).
func tiledQ8Step() int {
	if TiledQ8StepFixed > 0 {
		return TiledQ8StepFixed
	}
	return 32
}

// q8Shape says why the kernels cannot read 8-bit activations for rows
// rows of k over weights of types (nil: they can).
func q8Shape(rows, k int, types ...dtype.DType) error {
	for _, t := range types {
		if !q8Types[t] {
			return fmt.Errorf("gpuops: no GEMV of %v weights reads 8-bit activations", t)
		}
	}
	if rows != 1 || k%32 != 0 {
		return fmt.Errorf("gpuops: 8-bit activations of %d rows of %d (one row of a multiple of 32 needed)", rows, k)
	}
	return nil
}

// Q8Bytes is the size of a row of k activations as q8_quads.wgsl stores
// it: k/4 words of int8, two words a block of 32, one a 16.
func Q8Bytes(k int) uint64 { return uint64(4 * (k/4 + k/16 + k/16)) }

// q8Input is how a GEMV gets its activations: x as floats, quantized by
// the GEMV's own launch where q8 (Q8Acts), or (pre) already 8-bit, stored
// by the norm before it (NormParams.Q8Out).
type q8Input struct{ q8, pre bool }

// q8For is the input mode of a GEMV over weights of types with rows
// activation rows of k, n outputs; pre says x holds 8-bit activations.
func (c *Context) q8For(pre bool, rows, k, n int, types ...dtype.DType) (q8Input, error) {
	if !pre {
		return q8Input{q8: c.Q8Acts(rows, k, n, types...)}, nil
	}
	if err := q8Shape(rows, k, types...); err != nil {
		return q8Input{}, err
	}
	return q8Input{q8: true, pre: true}, nil
}

// input adds the quantize launch the mode needs to d and returns the
// binding the GEMV reads.
func (in q8Input) input(c *Context, d *Dispatch, x gpu.Binding, k int) (gpu.Binding, error) {
	if !in.q8 || in.pre {
		return x, nil
	}
	return c.prepareQ8(d, x, k)
}

// prepareQ8 adds to d the launch that quantizes the activation row x of k
// elements into a scratch buffer of d's, and returns the buffer's binding.
func (c *Context) prepareQ8(d *Dispatch, x gpu.Binding, k int) (gpu.Binding, error) {
	q, err := d.scratch(c, "q8 activations", Q8Bytes(k))
	if err != nil {
		return gpu.Binding{}, err
	}
	return q.Binding(), c.addQuantize(d, x, q.Binding(), k)
}

// addQuantize adds to d the launch that quantizes the row x of k elements
// into q.
func (c *Context) addQuantize(d *Dispatch, x, q gpu.Binding, k int) error {
	return c.addQuantizeRows(d, x, q, k, 1)
}

// tiledRows is what a tiled matmul over rows rows of k activations x
// reads: x itself for the float kernel, or for the integer one (q8) the
// context's shared prompt buffer of 8-bit rows, which the launch added to d
// fills unless x holds 8-bit rows already (pre; an error without q8).
func (c *Context) tiledRows(d *Dispatch, x gpu.Binding, k, rows int, q8, pre bool) (gpu.Binding, error) {
	switch {
	case pre && !q8:
		return gpu.Binding{}, fmt.Errorf("gpuops: no tiled matmul here reads 8-bit rows of %d activations", k)
	case !q8 || pre:
		return x, nil
	}
	xq, err := c.pooled(&c.q8rows, "prefill 8-bit activations", uint64(rows)*Q8Bytes(k))
	if err != nil {
		return gpu.Binding{}, err
	}
	return xq, c.addQuantizeRows(d, x, xq, k, rows)
}

// noPartials is the split-k partials binding of a tiled launch that writes
// none (its layout has one).
func (c *Context) noPartials() (gpu.Binding, error) {
	return c.pooled(&c.parts, "split-k partials", 16)
}

// PrepareQuantizeRows is the launch that stores rows rows of k activations
// from x as 8-bit rows into q (rows·Q8Bytes(k) bytes), which
// MatMul.PrepareQ8Rows reads.
func (c *Context) PrepareQuantizeRows(x, q gpu.Binding, k, rows int) (*Dispatch, error) {
	if k%32 != 0 {
		return nil, fmt.Errorf("gpuops: 8-bit rows of %d activations (a multiple of 32 needed)", k)
	}
	d := &Dispatch{Label: "quantize"}
	if err := c.addQuantizeRows(d, x, q, k, rows); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}

// addQuantizeRows adds to d the launch that quantizes rows rows of k
// elements from x into q, row r at byte r·Q8Bytes(k).
func (c *Context) addQuantizeRows(d *Dispatch, x, q gpu.Binding, k, rows int) error {
	kern, err := c.compile(context.Background(), shader{kernel: "quantize_q8", params: quantParams{}, libs: []string{"q8_quads"}},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return err
	}
	per := (k/4 + gemvWG - 1) / gemvWG
	return d.add(kern, quantParams{K: uint32(k), Rows: uint32(rows)}, uint32(rows*per), x, q)
}
