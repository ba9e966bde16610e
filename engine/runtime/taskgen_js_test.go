//go:build js && wasm

package runtime

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/tasks"
)

// TaskGenerator gives what tasks.ArchGenerator gives on the CPU reference:
// greedy and seeded sampling, stop tokens, a callback that stops one
// sequence of a batch, streaming per sequence.
func TestTaskGeneratorMatchesCPU(t *testing.T) {
	src := openStories(t)
	be := ref.New()
	cm, err := arch.Load(src, be)
	require.NoError(t, err)
	cpu := &tasks.ArchGenerator{Model: cm, Backend: be}
	m, err := Load(testCtx(t), src, LoadOptions{Precision: "f32", Device: sharedDevice(t)})
	require.NoError(t, err)
	defer m.Close()
	gpu := &TaskGenerator{Model: m}
	defer gpu.Close()

	prompts := [][]int32{storiesPrompt, {1, 403, 407}, {1, 261}}
	// Two prompts of one length are prefilled together (cache slots 1 and
	// 3), the others alone.
	mixed := [][]int32{{1, 261}, {1, 403, 407}, storiesPrompt, {1, 450, 261}}
	tests := []struct {
		name    string
		opts    tasks.GenOptions
		stopAt  map[int]int // sequence → tokens after which onToken returns false
		prompts [][]int32
		steps   int // TaskGenerator.StepsPerSubmit (0 = its default, 4)
	}{
		{name: "greedy batch", opts: tasks.GenOptions{MaxTokens: 20}, prompts: prompts},
		{name: "greedy one", opts: tasks.GenOptions{MaxTokens: 9}, prompts: prompts[:1]},
		{name: "stop token", opts: tasks.GenOptions{MaxTokens: 20, Stop: []int32{storiesGreedy[5]}}, prompts: prompts},
		{name: "onToken stops one", opts: tasks.GenOptions{MaxTokens: 16}, stopAt: map[int]int{1: 3}, prompts: prompts},
		{name: "sampled", opts: tasks.GenOptions{MaxTokens: 16, Sampling: sample.Params{Temperature: 0.8, TopK: 40, Seed: 5}}, prompts: prompts},
		{name: "repeat penalty", opts: tasks.GenOptions{MaxTokens: 16, Sampling: sample.Params{RepeatPenalty: 1.3}}, prompts: prompts[:2]},
		{name: "sampled one step per submit", opts: tasks.GenOptions{MaxTokens: 16, Sampling: sample.Params{Temperature: 0.8, TopK: 40, Seed: 5}}, prompts: prompts, steps: 1},
		{name: "sampled seven steps per submit", opts: tasks.GenOptions{MaxTokens: 16, Sampling: sample.Params{Temperature: 0.8, TopK: 40, Seed: 5}}, prompts: prompts, steps: 7},
		{name: "top-p", opts: tasks.GenOptions{MaxTokens: 24, Sampling: sample.Params{Temperature: 0.9, TopP: 0.8, Seed: 11}}, prompts: prompts},
		{name: "top-k 0", opts: tasks.GenOptions{MaxTokens: 24, Sampling: sample.Params{Temperature: 1, Seed: 3}}, prompts: prompts},
		{name: "penalty last n", opts: tasks.GenOptions{MaxTokens: 24, Sampling: sample.Params{Temperature: 0.7, TopK: 20, RepeatPenalty: 1.5, RepeatLastN: 8, Seed: 9}}, prompts: prompts},
		{name: "penalty all history", opts: tasks.GenOptions{MaxTokens: 24, Sampling: sample.Params{Temperature: 0.6, RepeatPenalty: 1.2, Seed: 0x7_0000_0004}}, prompts: prompts},
		{name: "greedy penalty last n", opts: tasks.GenOptions{MaxTokens: 24, Sampling: sample.Params{RepeatPenalty: 1.4, RepeatLastN: 4}}, prompts: prompts},
		{name: "sampled batch of mixed lengths", opts: tasks.GenOptions{MaxTokens: 20, Sampling: sample.Params{Temperature: 0.8, TopP: 0.9, RepeatPenalty: 1.1, Seed: 21}}, prompts: mixed, steps: 3},
		{name: "sampled one of the batch alone", opts: tasks.GenOptions{MaxTokens: 20, Sampling: sample.Params{Temperature: 0.8, TopP: 0.9, RepeatPenalty: 1.1, Seed: 21}}, prompts: mixed[3:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := func(g tasks.BatchGenerator) ([]tasks.Generation, [][]int32) {
				streamed := make([][]int32, len(tc.prompts))
				gens, err := g.GenerateBatch(testCtx(t), tc.prompts, tc.opts, func(seq int, id int32) bool {
					streamed[seq] = append(streamed[seq], id)
					n, ok := tc.stopAt[seq]
					return !ok || len(streamed[seq]) < n
				})
				require.NoError(t, err)
				return gens, streamed
			}
			want, _ := run(cpu)
			gpu.StepsPerSubmit = tc.steps
			got, streamed := run(gpu)
			require.Len(t, got, len(want))
			for i := range want {
				assert.Equal(t, want[i], got[i], "sequence %d", i)
				assert.Equal(t, got[i].Tokens, streamed[i], "sequence %d streamed", i)
			}
			if tc.stopAt != nil {
				assert.Equal(t, tasks.StopStopped, got[1].Stop)
				assert.Equal(t, tasks.StopLength, got[0].Stop)
			}
			if tc.opts.Stop != nil {
				assert.Equal(t, tasks.StopEOS, got[0].Stop)
			}
		})
	}

	// Generate (one sequence) and cancellation.
	toks, stop, err := gpu.Generate(testCtx(t), storiesPrompt, tasks.GenOptions{MaxTokens: 32}, nil)
	require.NoError(t, err)
	assert.Equal(t, storiesGreedy, toks)
	assert.Equal(t, tasks.StopLength, stop)
	ctx, cancel := context.WithCancel(testCtx(t))
	_, _, err = gpu.Generate(ctx, storiesPrompt, tasks.GenOptions{MaxTokens: 32}, func(id int32) bool {
		cancel()
		return true
	})
	require.ErrorIs(t, err, context.Canceled)
}

// Sampled generation with prompts prefilled in several chunks (2 rows per
// step) and a session reused across requests (histories start afresh from
// each request's prompts) still gives the CPU's tokens.
func TestTaskGeneratorSampledChunkedPrefill(t *testing.T) {
	src := openStories(t)
	be := ref.New()
	cm, err := arch.Load(src, be)
	require.NoError(t, err)
	cpu := &tasks.ArchGenerator{Model: cm, Backend: be}
	m, err := Load(testCtx(t), src, LoadOptions{Precision: "f32", Device: sharedDevice(t), MaxChunk: 2})
	require.NoError(t, err)
	defer m.Close()
	gpu := &TaskGenerator{Model: m, StepsPerSubmit: 3}
	defer gpu.Close()
	opts := tasks.GenOptions{MaxTokens: 20, Sampling: sample.Params{Temperature: 0.9, TopK: 60, RepeatPenalty: 1.3, Seed: 17}}
	for _, prompts := range [][][]int32{
		{storiesPrompt, {1, 403, 407}},
		{{1, 450, 261, 300}, storiesPrompt},
	} {
		want, err := cpu.GenerateBatch(testCtx(t), prompts, opts, nil)
		require.NoError(t, err)
		got, err := gpu.GenerateBatch(testCtx(t), prompts, opts, nil)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}
