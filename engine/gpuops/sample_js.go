//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/sample"
)

// Sampler draws tokens on the GPU with engine/sample's algorithm.
type Sampler struct {
	c                          *Context
	copy, penalty, block, draw *kernel
}

// NewSampler compiles the four sampling passes.
func NewSampler(ctx context.Context, c *Context) (*Sampler, error) {
	structs := map[string]any{"SampleParams": sampleUniform{}}
	cp, err := c.compile(ctx, shader{kernel: "sample_prep", params: samplePassParams{}},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	pen, err := c.compile(ctx, shader{kernel: "sample_penalty", params: samplePassParams{}, structs: structs},
		gpu.Uniform, gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	pass := func(final string) (*kernel, error) {
		return c.compile(ctx, shader{kernel: "sample", params: samplePassParams{}, structs: structs, consts: map[string]string{"FINAL": final, "BS": fmt.Sprintf("%du", sampleBlock)}},
			gpu.Uniform, gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage, gpu.Storage)
	}
	block, err := pass("false")
	if err != nil {
		return nil, err
	}
	draw, err := pass("true")
	if err != nil {
		return nil, err
	}
	return &Sampler{c: c, copy: cp, penalty: pen, block: block, draw: draw}, nil
}

// SampleConfig is the sampling parameters that prepared dispatches read:
// one uniform buffer that any number of them share (a session's graphs,
// say), written once per request by SetParams.
type SampleConfig struct {
	c             *Context
	buf           *gpu.Buffer
	vocab, window int
}

// NewConfig makes the parameters of dispatches over a vocabulary whose
// histories hold a ring of window tokens (NewHistory); it starts at
// temperature 1 with nothing else on.
func (s *Sampler) NewConfig(vocab, window int) (*SampleConfig, error) {
	if vocab < 1 || window < 1 {
		return nil, fmt.Errorf("gpuops: sampling needs a vocabulary and a history window (got %d, %d)", vocab, window)
	}
	buf, err := s.c.Dev.CreateBuffer("sample params", 32, gpu.UsageUniform|gpu.UsageCopyDst)
	if err != nil {
		return nil, err
	}
	cfg := &SampleConfig{c: s.c, buf: buf, vocab: vocab, window: window}
	if err := cfg.SetParams(sample.Params{Temperature: 1}); err != nil {
		buf.Destroy()
		return nil, err
	}
	return cfg, nil
}

// SetParams writes new sampling parameters; work submitted afterwards uses
// them. Plain greedy decoding belongs to Argmax.
func (cfg *SampleConfig) SetParams(p sample.Params) error {
	if p.Greedy() {
		return fmt.Errorf("gpuops: greedy decoding without a penalty is Argmax's, not the sampler's")
	}
	return cfg.c.Dev.WriteBuffer(cfg.buf, 0, mustUniform(sampleSettings(p, cfg.vocab, cfg.window)))
}

// Release frees the parameters once the GPU no longer uses them.
func (cfg *SampleConfig) Release() { cfg.buf.Destroy() }

// Prepare samples one token per row of logits [rows, vocab] with cfg's
// parameters. step is an int32 buffer: element slotOff+r names the history
// row (a cache slot) of row r, and the token goes to element outOff+r (the
// next step's ids, say). hist holds window+1 int32 per slot (NewHistory);
// the kernel appends each token, and the count drives the random stream, so
// no per-step write is needed.
func (s *Sampler) Prepare(cfg *SampleConfig, logits, hist, step gpu.Binding, rows, slotOff, outOff int) (*Dispatch, error) {
	d := &Dispatch{Label: "sample"}
	fail := func(err error) (*Dispatch, error) { d.Release(); return nil, err }
	scratch, err := d.scratch(s.c, "penalized", uint64(4*rows*cfg.vocab))
	if err != nil {
		return fail(err)
	}
	blocks := (cfg.vocab + sampleBlock - 1) / sampleBlock
	cand, err := d.scratch(s.c, "candidates", uint64(8*rows*blocks*sample.MaxCandidates))
	if err != nil {
		return fail(err)
	}
	pp := samplePassParams{Rows: uint32(rows), Vocab: uint32(cfg.vocab), Window: uint32(cfg.window),
		OutOff: uint32(outOff), SlotOff: uint32(slotOff)}
	sb := scratch.Binding()
	if err := d.add(s.copy, pp, groupsFor(rows*cfg.vocab), logits, sb); err != nil {
		return fail(err)
	}
	// The penalty pass rewrites only the logits of tokens in the history:
	// one workgroup per row walking its last n tokens.
	if err := d.add(s.penalty, pp, uint32(rows), cfg.buf.Binding(), logits, hist, step, sb); err != nil {
		return fail(err)
	}
	// Each block of the vocabulary keeps its best candidates, then one
	// workgroup per row draws among theirs.
	if err := d.add(s.block, pp, uint32(rows*blocks), cfg.buf.Binding(), sb, hist, cand.Binding()); err != nil {
		return fail(err)
	}
	if err := d.add(s.draw, pp, uint32(rows), cfg.buf.Binding(), cand.Binding(), hist, step); err != nil {
		return fail(err)
	}
	return d, nil
}
