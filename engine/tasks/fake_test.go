package tasks

import (
	"context"
	"regexp"
	"sync"

	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// fakeGen answers with scripted text and records every prompt it saw.
type fakeGen struct {
	tok   *tokenizer.Tokenizer
	reply func(prompt string) string

	mu      sync.Mutex
	prompts [][]int32
	maxToks []int
	batches []int // sizes of GenerateBatch calls
}

func (g *fakeGen) Generate(ctx context.Context, prompt []int32, opts GenOptions, onToken func(int32) bool) ([]int32, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	g.mu.Lock()
	g.prompts = append(g.prompts, prompt)
	g.maxToks = append(g.maxToks, opts.MaxTokens)
	g.mu.Unlock()
	ids := g.tok.Encode(g.reply(g.tok.Decode(prompt)), false)
	stop := StopEOS
	if len(ids) > opts.MaxTokens {
		ids, stop = ids[:opts.MaxTokens], StopLength
	}
	for _, id := range ids {
		if onToken != nil && !onToken(id) {
			return ids, StopStopped, nil
		}
	}
	return ids, stop, nil
}

// fakeBatchGen also decodes batches (sequentially, recording the size).
type fakeBatchGen struct{ *fakeGen }

func (g fakeBatchGen) GenerateBatch(ctx context.Context, prompts [][]int32, opts GenOptions, onToken func(int, int32) bool) ([]Generation, error) {
	g.mu.Lock()
	g.batches = append(g.batches, len(prompts))
	g.mu.Unlock()
	out := make([]Generation, len(prompts))
	for i, p := range prompts {
		toks, stop, err := g.Generate(ctx, p, opts, nil)
		if err != nil {
			return nil, err
		}
		out[i] = Generation{toks, stop}
	}
	return out, nil
}

var partRe = regexp.MustCompile(`part (\d+) of (\d+) of a longer text`)

// partReply answers a part prompt with "S<part>of<parts>." and anything
// else with final.
func partReply(final string) func(string) string {
	return func(p string) string {
		if m := partRe.FindStringSubmatch(p); m != nil {
			return "S" + m[1] + "of" + m[2] + "."
		}
		return final
	}
}
