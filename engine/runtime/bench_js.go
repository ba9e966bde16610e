//go:build js && wasm

package runtime

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/sample"
)

// Bench loads src, warms up (pipelines compiled, graphs recorded, the GPU
// busy for benchWarmup), then times a prefill of PromptTokens and
// GenTokens decoded tokens, greedy or sampled (o.Sampling), on a device of
// its own.
func Bench(ctx context.Context, src model.Source, o BenchOptions) (*BenchReport, error) {
	return BenchOn(ctx, nil, src, o)
}

// BenchOn is Bench on dev (nil: a device of its own, opened with
// timestamp-query when o.Profile asks for it), as the extension's service
// worker runs it on the device its tasks use.
func BenchOn(ctx context.Context, dev *gpu.Device, src model.Source, o BenchOptions) (*BenchReport, error) {
	if o.PromptTokens < 1 || o.GenTokens < 2 {
		return nil, fmt.Errorf("bench needs at least 1 prompt token and 2 generated tokens")
	}
	if o.StepsPerSubmit < 1 {
		o.StepsPerSubmit = 1
	}
	m, err := Load(ctx, src, LoadOptions{Device: dev, Precision: o.Precision, Profile: o.Profile, MaxChunk: o.MaxChunk})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	length := o.PromptTokens + o.GenTokens + o.StepsPerSubmit
	if c := m.Config.ContextLength; c > 0 && length > c {
		return nil, fmt.Errorf("%d prompt + %d generated tokens exceed the model's context of %d: lower --prompt-tokens or --gen-tokens", o.PromptTokens, o.GenTokens, c)
	}
	if o.Context > 0 {
		if o.Context < length {
			return nil, fmt.Errorf("a context of %d is shorter than %d prompt + %d generated tokens + %d steps a submission", o.Context, o.PromptTokens, o.GenTokens, o.StepsPerSubmit)
		}
		length = o.Context
	}
	s, err := m.NewSession(1, length)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	prompt := benchPrompt(o.PromptTokens, m.Config.VocabSize)
	gen := GenOptions{MaxTokens: min(o.GenTokens, 2*o.StepsPerSubmit+1), StepsPerSubmit: o.StepsPerSubmit, Serial: o.Serial, Sampling: o.Sampling}
	draw := !o.Sampling.Greedy()
	if _, err := s.Generate(ctx, [][]int32{prompt}, gen); err != nil {
		return nil, err
	}
	gen.MaxTokens = o.GenTokens
	for i, w0 := 0, time.Now(); i < benchWarmupRuns && time.Since(w0) < benchWarmup; i++ {
		if _, err := s.Generate(ctx, [][]int32{prompt}, gen); err != nil {
			return nil, err
		}
	}
	var first, last time.Time
	var calls0 int
	gen.OnToken = func(_ int, _ int32) {
		last = time.Now()
		if first.IsZero() {
			first = last
			calls0 = m.JSCalls()
		}
	}
	// The profile is of the first decode submission's graph (a longer
	// generation may move on to graphs of longer spans).
	decode := stepLayout{B: 1, T: 1, R: o.StepsPerSubmit, Sample: true, Draw: draw, Span: s.span(o.PromptTokens + o.StepsPerSubmit)}
	if err := s.resetProfile(decode, false); err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := s.Generate(ctx, [][]int32{prompt}, gen)
	if err != nil {
		return nil, err
	}
	decoded := len(res[0].Tokens) - 1
	ttft, err := bestTTFT(ctx, s, prompt, o.Sampling, first.Sub(start))
	if err != nil {
		return nil, err
	}
	r := &BenchReport{
		TTFTms:             float64(ttft.Microseconds()) / 1e3,
		LoadMs:             float64(m.LoadTime.Microseconds()) / 1e3,
		GPUBytes:           m.GPUBytes(),
		DispatchesPerToken: s.DecodeDispatches,
		Device:             m.Backend.dev.Info.Adapter.Description,
		Precision:          m.Backend.Precision().String(),
		Serial:             o.Serial,
		Context:            o.Context,
	}
	if t := o.Sampling.Temperature; t > 0 {
		// The shortest decimal of the float32 (0.8, not 0.800000011920929).
		r.Temperature, _ = strconv.ParseFloat(strconv.FormatFloat(float64(t), 'g', -1, 32), 64)
	}
	r.PrefillTokS = float64(o.PromptTokens) / ttft.Seconds()
	if o.PromptTokens > 1 {
		d, err := timeTTFT(ctx, s, prompt[:o.PromptTokens-1], o.Sampling)
		if err != nil {
			return nil, err
		}
		r.TTFTNewLengthMs = float64(d.Microseconds()) / 1e3
	}
	if d := last.Sub(first).Seconds(); decoded > 0 && d > 0 {
		r.DecodeTokS = float64(decoded) / d
		r.JSCallsPerToken = float64(m.JSCalls()-calls0) / float64(decoded)
	}
	if o.Profile {
		if r.Profile, err = s.profileDecode(ctx, decode, prompt, gen); err != nil {
			return nil, err
		}
	}
	plan, err := s.Plan(stepLayout{B: 1, T: 1, R: 1, Sample: true})
	if err != nil {
		return nil, err
	}
	r.WeightBytesPerToken = float64(m.Backend.planWeightBytes(plan))
	if r.Device == "" {
		r.Device = m.Backend.dev.Info.Adapter.Vendor + " " + m.Backend.dev.Info.Adapter.Architecture
	}
	return r, nil
}

// benchWarmup is how long bench keeps the GPU busy, in whole runs of the
// timed generation (at most benchWarmupRuns), before it times one: an idle
// GPU lowers its clocks and needs a few hundred milliseconds of load to
// raise them. On the H100 the SM clock fell from 1,980 to 345–495 MHz
// after ~4 s idle, as a bench process loads its model, and the 0.1–0.5 s
// timed decode of a small model that followed a short warm-up ran partly
// at the low clock: 458 against 1,154 tok/s for one file in two processes
// (round p, docs/PERFORMANCE.md). A user's first request after a pause
// pays that ramp; bench reports the steady state, as llama.cpp's script in
// build/device does.
const (
	benchWarmup     = time.Second
	benchWarmupRuns = 20
)

// planWeightBytes is the weight bytes one step of plan reads: whole
// matrices and norm vectors, one row of an embedding table per token, the
// router and the used share of the experts of an MoE layer.
func (b *Backend) planWeightBytes(p *Plan) uint64 {
	var n uint64
	for _, e := range p.Entries {
		size := b.weightSizes[e.Weight]
		switch e.Op {
		case "embed", "embed+scale":
			size /= uint64(b.weightRows[e.Weight])
		case "moe":
			size = b.moeBytes[e.Weight]
		}
		n += size + b.weightSizes[e.Weight2] + b.weightSizes[e.Weight3]
	}
	return n
}

// resetProfile zeroes the profile sums of graph lay (a no-op when the
// backend does not profile).
func (s *Session) resetProfile(lay stepLayout, ops bool) error {
	g := s.graphs[lay]
	if !s.m.Backend.opts.Profile || g == nil {
		return nil
	}
	if g.prof == nil {
		return fmt.Errorf("profile: the device offers no timestamp-query (%s)", s.m.Backend.dev.Info.Adapter.Description)
	}
	return g.prof.reset(ops)
}

// profileDecode reads the timed decode's profile, then decodes again with
// every dispatch timed on its own.
func (s *Session) profileDecode(ctx context.Context, lay stepLayout, prompt []int32, gen GenOptions) (*BenchProfile, error) {
	g := s.graphs[lay]
	if g == nil || g.prof == nil {
		return nil, fmt.Errorf("profile: no timed decode graph (%s)", lay)
	}
	p := &BenchProfile{}
	var err error
	if p.Decode, err = g.prof.read(); err != nil {
		return nil, err
	}
	p.Decode.Steps = lay.R
	if err := g.prof.reset(true); err != nil {
		return nil, err
	}
	// The prompt's chunks too, launch by launch (the largest chunk's graph).
	var pre *graph
	for lay, pg := range s.graphs {
		if lay.T > 1 && pg.prof != nil && 2*len(pg.prof.cmds) <= maxQueries && (pre == nil || lay.T > pre.lay.T) {
			pre = pg
		}
	}
	if pre != nil {
		if err := pre.prof.reset(true); err != nil {
			return nil, err
		}
	}
	gen.OnToken = nil
	gen.MaxTokens = min(gen.MaxTokens, 33)
	if _, err := s.Generate(ctx, [][]int32{prompt}, gen); err != nil {
		return nil, err
	}
	if p.Ops, err = g.prof.read(); err != nil {
		return nil, err
	}
	p.Ops.Steps = lay.R
	if pre != nil {
		if p.Prefill, err = pre.prof.read(); err != nil {
			return nil, err
		}
		p.PrefillRows = pre.lay.T
		if err := pre.prof.reset(false); err != nil {
			return nil, err
		}
	}
	return p, g.prof.reset(false)
}

// ttftRuns is how many prefills bench times (the best counts): one prefill
// is tens of milliseconds, where a pause of the Go or JS runtime shows
// (single runs on the H200 varied up to 2.5×, the GPU's own time did not).
const ttftRuns = 3

// bestTTFT is the shortest time to first token of the prompt over
// ttftRuns prefills, the first (already timed) being have.
func bestTTFT(ctx context.Context, s *Session, prompt []int32, sampling sample.Params, have time.Duration) (time.Duration, error) {
	best := have
	for i := 1; i < ttftRuns; i++ {
		d, err := timeTTFT(ctx, s, prompt, sampling)
		if err != nil {
			return 0, err
		}
		best = min(best, d)
	}
	return best, nil
}

// timeTTFT is the time to the first token of one prefill of prompt.
func timeTTFT(ctx context.Context, s *Session, prompt []int32, sampling sample.Params) (time.Duration, error) {
	var first time.Time
	start := time.Now()
	gen := GenOptions{MaxTokens: 1, Sampling: sampling, OnToken: func(int, int32) {
		if first.IsZero() {
			first = time.Now()
		}
	}}
	if _, err := s.Generate(ctx, [][]int32{prompt}, gen); err != nil {
		return 0, err
	}
	return first.Sub(start), nil
}
