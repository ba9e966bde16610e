//go:build js && wasm

package runtime

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/tasks"
)

// TaskGenerator is tasks.BatchGenerator on a loaded model: the tasks engine
// (summaries, rewrites, chat) on WebGPU. It keeps one session (KV caches
// and the step graphs captured for it) between generations and replaces it
// only when a generation needs more positions or sequences: capturing a
// step shape costs far more than replaying it. Not safe for concurrent
// use; Close it before the model.
type TaskGenerator struct {
	Model *Model
	// StepsPerSubmit is how many decode steps run between two token
	// read-backs (0 = DefaultStepsPerSubmit).
	StepsPerSubmit int

	s             *Session
	slots, length int
}

var _ tasks.BatchGenerator = (*TaskGenerator)(nil)

// Close frees the session.
func (g *TaskGenerator) Close() {
	if g.s != nil {
		g.s.Close()
		g.s, g.slots, g.length = nil, 0, 0
	}
}

// session returns a session of at least slots sequences and need positions.
func (g *TaskGenerator) session(slots, need int) (*Session, error) {
	if g.s != nil && g.slots >= slots && g.length >= need {
		return g.s, nil
	}
	slots = max(slots, g.slots)
	length := sessionLength(need, g.length, g.Model.Config.ContextLength)
	g.Close()
	s, err := g.Model.NewSession(slots, length)
	if err != nil {
		return nil, err
	}
	g.s, g.slots, g.length = s, slots, length
	return s, nil
}

// Generate implements tasks.Generator.
func (g *TaskGenerator) Generate(ctx context.Context, prompt []int32, opts tasks.GenOptions, onToken func(int32) bool) ([]int32, string, error) {
	var cb func(int, int32) bool
	if onToken != nil {
		cb = func(_ int, id int32) bool { return onToken(id) }
	}
	gens, err := g.GenerateBatch(ctx, [][]int32{prompt}, opts, cb)
	if err != nil {
		return nil, "", err
	}
	return gens[0].Tokens, gens[0].Stop, nil
}

// GenerateBatch implements tasks.BatchGenerator: the prompts decode
// together, one row each per step, each giving what it gives alone.
// Tokens are picked on the GPU, greedy or sampled with engine/sample's
// algorithm (as tasks.ArchGenerator samples on the CPU, so a seed gives
// the same text).
func (g *TaskGenerator) GenerateBatch(ctx context.Context, prompts [][]int32, opts tasks.GenOptions, onToken func(int, int32) bool) ([]tasks.Generation, error) {
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
	need := longest + opts.MaxTokens
	if c := g.Model.Config.ContextLength; c > 0 {
		if longest >= c {
			return nil, &ContextError{Tokens: longest, Context: c}
		}
		need = min(need, c)
	}
	s, err := g.session(len(prompts), need)
	if err != nil {
		return nil, err
	}
	steps := g.StepsPerSubmit
	if steps <= 0 {
		steps = DefaultStepsPerSubmit
	}
	o := GenOptions{MaxTokens: opts.MaxTokens, StepsPerSubmit: steps, IsStop: opts.IsStop, Sampling: opts.Sampling}
	if onToken != nil {
		o.Keep = onToken
	}
	res, err := s.Generate(ctx, prompts, o)
	if err != nil {
		return nil, err
	}
	out := make([]tasks.Generation, len(res))
	for i, r := range res {
		out[i] = tasks.Generation{Tokens: r.Tokens, Stop: r.Stop}
	}
	return out, nil
}
