package tasks

import (
	"context"

	"github.com/doppler-engine/doppler/engine/sample"
)

// Stop reasons a Generator reports.
const (
	StopEOS     = "eos"     // a stop token ended the sequence
	StopLength  = "length"  // MaxTokens (or the context) was reached
	StopStopped = "stopped" // onToken returned false
)

// GenOptions configure one generation.
type GenOptions struct {
	MaxTokens int
	Sampling  sample.Params
	// Stop tokens end the sequence and are not returned (the tokenizer's
	// StopTokens).
	Stop []int32
}

// IsStop reports whether id ends a sequence.
func (o GenOptions) IsStop(id int32) bool {
	for _, s := range o.Stop {
		if s == id {
			return true
		}
	}
	return false
}

// Generator continues a prompt. The CPU reference (ArchGenerator), the
// WebGPU runtime and the service worker's engine all implement it.
//
// Generate feeds prompt, then samples up to opts.MaxTokens tokens, calling
// onToken with each (stop tokens excluded); onToken returning false stops
// early. It returns the generated tokens and why it stopped (StopEOS,
// StopLength, StopStopped), or ctx.Err() when ctx ends first.
type Generator interface {
	Generate(ctx context.Context, prompt []int32, opts GenOptions, onToken func(id int32) bool) (tokens []int32, stop string, err error)
}

// Generation is one sequence's result in a batch.
type Generation struct {
	Tokens []int32
	Stop   string
}

// BatchGenerator is a Generator that can decode several independent
// sequences at once (one forward pass per step for all of them).
// onToken gets the sequence's index.
type BatchGenerator interface {
	Generator
	GenerateBatch(ctx context.Context, prompts [][]int32, opts GenOptions, onToken func(seq int, id int32) bool) ([]Generation, error)
}

// GenerateAll runs independent prompts: as one batch when g can, else one
// after another.
func GenerateAll(ctx context.Context, g Generator, prompts [][]int32, opts GenOptions, onToken func(seq int, id int32) bool) ([]Generation, error) {
	if bg, ok := g.(BatchGenerator); ok && len(prompts) > 1 {
		return bg.GenerateBatch(ctx, prompts, opts, onToken)
	}
	out := make([]Generation, len(prompts))
	for i, p := range prompts {
		var cb func(int32) bool
		if onToken != nil {
			cb = func(id int32) bool { return onToken(i, id) }
		}
		toks, stop, err := g.Generate(ctx, p, opts, cb)
		if err != nil {
			return nil, err
		}
		out[i] = Generation{Tokens: toks, Stop: stop}
	}
	return out, nil
}
