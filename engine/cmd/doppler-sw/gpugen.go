//go:build js && wasm

package main

import (
	"context"
	"errors"

	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/tasks"
)

// stepsPerSubmit is how many greedy decode steps run on the GPU between two
// token read-backs: fewer waits per token, tokens stream in groups this big.
const stepsPerSubmit = 4

// gpuGenerator is tasks.Generator over the WebGPU runtime. It keeps its
// session (KV cache and the step graphs it captured) between generations,
// growing it when a longer one is needed: capturing a step shape costs far
// more than replaying it. Generations are serialized (host.gen).
type gpuGenerator struct {
	m      *runtime.Model
	s      *runtime.Session
	length int
}

// session returns a session of at least need positions.
func (g *gpuGenerator) session(need int) (*runtime.Session, error) {
	if g.s != nil && g.length >= need {
		return g.s, nil
	}
	g.close()
	// Round up so a slightly longer prompt next time reuses the session.
	length := max(need, 512)
	if c := g.m.Config.ContextLength; c > 0 {
		length = max(min(length, c), need)
	}
	s, err := g.m.NewSession(1, length)
	if err != nil {
		return nil, err
	}
	g.s, g.length = s, length
	return s, nil
}

func (g *gpuGenerator) close() {
	if g.s != nil {
		g.s.Close()
		g.s, g.length = nil, 0
	}
}

var _ tasks.Generator = (*gpuGenerator)(nil)

func (g *gpuGenerator) Generate(ctx context.Context, prompt []int32, opts tasks.GenOptions, onToken func(int32) bool) ([]int32, string, error) {
	length := len(prompt) + opts.MaxTokens + stepsPerSubmit
	if c := g.m.Config.ContextLength; c > 0 {
		if len(prompt) > c {
			return nil, "", &runtime.ContextError{Tokens: len(prompt), Context: c}
		}
		length = min(length, c)
	}
	s, err := g.session(length)
	if err != nil {
		return nil, "", err
	}

	// onToken returning false stops the generation: the runtime has no such
	// callback, so cancel its context and report "stopped".
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []int32
	stopped := false
	o := runtime.GenOptions{
		MaxTokens:      opts.MaxTokens,
		StepsPerSubmit: stepsPerSubmit,
		IsStop:         opts.IsStop,
		OnToken: func(_ int, tok int32) {
			if stopped {
				return
			}
			out = append(out, tok)
			if onToken != nil && !onToken(tok) {
				stopped = true
				cancel()
			}
		},
	}
	if opts.Sampling.Temperature > 0 || (opts.Sampling.RepeatPenalty != 0 && opts.Sampling.RepeatPenalty != 1) {
		smp := sample.New(opts.Sampling)
		history := append([]int32(nil), prompt...)
		o.Sample = func(_ int, logits []float32) int32 {
			t := smp.Sample(logits, history)
			history = append(history, t)
			return t
		}
	}
	res, err := s.Generate(gctx, [][]int32{prompt}, o)
	if stopped && (err == nil || errors.Is(err, context.Canceled)) && ctx.Err() == nil {
		return out, tasks.StopStopped, nil
	}
	if err != nil {
		return nil, "", err
	}
	return res[0].Tokens, res[0].Stop, nil
}
