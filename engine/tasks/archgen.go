package tasks

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/sample"
)

// ArchGenerator generates with an engine/arch model on any arch.Backend
// (the pure-Go CPU reference in tests and the CLI). It prefills each prompt
// in one step and decodes one token per step; a batch decodes all its live
// sequences in one step.
type ArchGenerator struct {
	Model   arch.Model
	Backend arch.Backend
}

var _ BatchGenerator = (*ArchGenerator)(nil)

// cacheLength is the KV length a prompt of n tokens needs, capped by the
// model's context.
func (g *ArchGenerator) cacheLength(n, maxTokens int) (int, error) {
	length := n + maxTokens
	if ctx := g.Model.Config().ContextLength; ctx > 0 && length > ctx {
		if n >= ctx {
			return 0, fmt.Errorf("the prompt has %d tokens but the model's context holds %d", n, ctx)
		}
		length = ctx
	}
	return length, nil
}

// Generate implements Generator.
func (g *ArchGenerator) Generate(ctx context.Context, prompt []int32, opts GenOptions, onToken func(int32) bool) ([]int32, string, error) {
	gens, err := g.GenerateBatch(ctx, [][]int32{prompt}, opts, func(_ int, id int32) bool {
		return onToken == nil || onToken(id)
	})
	if err != nil {
		return nil, "", err
	}
	return gens[0].Tokens, gens[0].Stop, nil
}

// GenerateBatch implements BatchGenerator. Each sequence has its own
// sampler, so a batch gives what the sequences would give one by one.
func (g *ArchGenerator) GenerateBatch(ctx context.Context, prompts [][]int32, opts GenOptions, onToken func(int, int32) bool) ([]Generation, error) {
	if len(prompts) == 0 {
		return nil, nil
	}
	if opts.MaxTokens < 1 {
		return nil, fmt.Errorf("generate: MaxTokens must be at least 1")
	}
	longest := 0
	for _, p := range prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("generate: empty prompt")
		}
		longest = max(longest, len(p))
	}
	length, err := g.cacheLength(longest, opts.MaxTokens)
	if err != nil {
		return nil, err
	}
	r := arch.NewRunner(g.Model, g.Backend, len(prompts), length)
	type seq struct {
		history []int32
		sampler *sample.Sampler
		next    int32
		done    bool
	}
	seqs := make([]*seq, len(prompts))
	out := make([]Generation, len(prompts))
	// accept records a sampled token; it reports whether the sequence goes on.
	accept := func(i int, id int32) bool {
		s := seqs[i]
		switch {
		case opts.IsStop(id):
			out[i].Stop = StopEOS
		case onToken != nil && !onToken(i, id):
			out[i].Tokens = append(out[i].Tokens, id)
			out[i].Stop = StopStopped
		default:
			out[i].Tokens = append(out[i].Tokens, id)
			s.history = append(s.history, id)
			if len(out[i].Tokens) < opts.MaxTokens && r.Len(i) < length {
				s.next = id
				return true
			}
			out[i].Stop = StopLength
		}
		s.done = true
		return false
	}
	// Prompts differ in length: prefill each in its own step.
	for i, p := range prompts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		logits, err := r.Feed([]int{i}, [][]int32{p}, false)
		if err != nil {
			return nil, err
		}
		seqs[i] = &seq{history: append([]int32(nil), p...), sampler: sample.New(opts.Sampling)}
		out[i].Tokens = []int32{}
		accept(i, seqs[i].sampler.Sample(logits[0], seqs[i].history))
	}
	for {
		var slots []int
		var toks [][]int32
		for i, s := range seqs {
			if !s.done {
				slots = append(slots, i)
				toks = append(toks, []int32{s.next})
			}
		}
		if len(slots) == 0 {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		logits, err := r.Feed(slots, toks, false)
		if err != nil {
			return nil, err
		}
		for k, i := range slots {
			accept(i, seqs[i].sampler.Sample(logits[k], seqs[i].history))
		}
	}
}
