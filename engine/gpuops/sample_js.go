//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// Sampler draws tokens on the GPU (see SampleParams for the algorithm).
type Sampler struct {
	c          *Context
	prep, draw *kernel
}

// NewSampler compiles the two sampling passes.
func NewSampler(ctx context.Context, c *Context) (*Sampler, error) {
	structs := map[string]any{"SampleParams": sampleUniform{}}
	prep, err := c.compile(ctx, shader{kernel: "sample_prep", params: samplePassParams{}, structs: structs},
		gpu.Uniform, gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	draw, err := c.compile(ctx, shader{kernel: "sample", params: samplePassParams{}, structs: structs},
		gpu.Uniform, gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	return &Sampler{c: c, prep: prep, draw: draw}, nil
}

// SampleDispatch is a prepared sampler whose parameters can change between
// requests without rebuilding it.
type SampleDispatch struct {
	*Dispatch
	c      *Context
	params *gpu.Buffer
	vocab  int
}

// SetParams writes new sampling parameters (takes effect for work submitted
// afterwards).
func (s *SampleDispatch) SetParams(p SampleParams) error {
	if p.Temperature <= 0 {
		return fmt.Errorf("gpuops: sampling needs a positive temperature (use Argmax for greedy)")
	}
	return s.c.Dev.WriteBuffer(s.params, 0, mustUniform(p.uniform(s.vocab)))
}

// Prepare samples one token per row of logits [rows, vocab] into element
// outOff+r of out (e.g. the next step's ids). hist holds, per row,
// window+1 int32 (count, then a ring of the last window tokens; see
// NewHistory): the runtime initializes it with the prompt at the start of a
// request; the kernel appends each sampled token, and its count drives the
// random stream, so no per-step write is needed.
func (s *Sampler) Prepare(logits, hist, out gpu.Binding, outOff, rows, vocab, window int, p SampleParams) (*SampleDispatch, error) {
	d := &Dispatch{Label: "sample"}
	fail := func(err error) (*SampleDispatch, error) { d.Release(); return nil, err }
	pb, err := s.c.Dev.CreateBuffer("sample params", 32, gpu.UsageUniform|gpu.UsageCopyDst)
	if err != nil {
		return nil, err
	}
	d.owned = append(d.owned, pb)
	sd := &SampleDispatch{Dispatch: d, c: s.c, params: pb, vocab: vocab}
	if err := sd.SetParams(p); err != nil {
		return fail(err)
	}
	scratch, err := d.scratch(s.c, "penalized", uint64(4*rows*vocab))
	if err != nil {
		return fail(err)
	}
	pp := samplePassParams{Rows: uint32(rows), Vocab: uint32(vocab), Window: uint32(window), OutOff: uint32(outOff)}
	if err := d.add(s.prep, pp, groupsFor(rows*vocab), pb.Binding(), logits, hist, scratch.Binding()); err != nil {
		return fail(err)
	}
	if err := d.add(s.draw, pp, uint32(rows), pb.Binding(), scratch.Binding(), hist, out); err != nil {
		return fail(err)
	}
	return sd, nil
}
