//go:build js && wasm

package runtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/doppler-engine/doppler/engine/sample"
)

// cpuGreedy is the CPU reference's greedy continuation of prompt.
func cpuGreedy(t *testing.T, prompt []int32, n int) []int32 {
	t.Helper()
	be := ref.New()
	m, err := arch.Load(openStories(t), be)
	require.NoError(t, err)
	r := arch.NewRunner(m, be, 1, len(prompt)+n)
	logits, err := r.Feed([]int{0}, [][]int32{prompt}, false)
	require.NoError(t, err)
	var out []int32
	for len(out) < n {
		out = append(out, sample.Argmax(logits[0]))
		if len(out) < n {
			logits, err = r.Feed([]int{0}, [][]int32{{out[len(out)-1]}}, false)
			require.NoError(t, err)
		}
	}
	return out
}

// stories260K on WebGPU gives llama.cpp's 32 greedy tokens whatever the
// number of decode steps per submission, streaming them in order.
func TestStoriesGreedy(t *testing.T) {
	for _, prec := range []string{"f32", "f16"} {
		t.Run(prec, func(t *testing.T) {
			if prec == "f16" && !sharedDevice(t).HasFeature("shader-f16") {
				t.Skip("the device has no shader-f16")
			}
			m := loadStories(t, prec)
			for _, steps := range []int{1, 4, 16} {
				s, err := m.NewSession(1, 64)
				require.NoError(t, err)
				var streamed []int32
				res, err := s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 32, StepsPerSubmit: steps,
					OnToken: func(_ int, tok int32) { streamed = append(streamed, tok) }})
				require.NoError(t, err)
				// f16 activations may only differ where the CPU's top-2
				// margin is tiny; on stories260K there is no such position.
				assert.Equal(t, storiesGreedy, res[0].Tokens, "steps per submit %d", steps)
				assert.Equal(t, res[0].Tokens, streamed)
				assert.Equal(t, "length", res[0].Stop)
				s.Close()
			}
		})
	}
}

// A stop token ends the sequence (not included); later tokens of the same
// submission are discarded.
func TestStopToken(t *testing.T) {
	m := loadStories(t, "f32")
	s, err := m.NewSession(1, 64)
	require.NoError(t, err)
	defer s.Close()
	stop := storiesGreedy[5]
	res, err := s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 32, StepsPerSubmit: 16,
		IsStop: func(tok int32) bool { return tok == stop }})
	require.NoError(t, err)
	assert.Equal(t, storiesGreedy[:5], res[0].Tokens)
	assert.Equal(t, "eos", res[0].Stop)
}

// Pipelined decoding (the default: the next submission starts from the
// tokens the GPU sampled, before the current one is read back) gives what
// serial decoding gives, leaves the session at the same length when a stop
// token ends it early (the speculative submission is dropped), and a chained
// continuation of that session matches the CPU reference.
func TestPipelinedEqualsSerial(t *testing.T) {
	m := loadStories(t, "f32")
	stop := storiesGreedy[9]
	for _, steps := range []int{1, 3} {
		var lens [2]int
		for i, serial := range []bool{true, false} {
			s, err := m.NewSession(1, 64)
			require.NoError(t, err)
			calls := m.JSCalls()
			res, err := s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 32, StepsPerSubmit: steps, Serial: serial,
				IsStop: func(tok int32) bool { return tok == stop }})
			require.NoError(t, err)
			assert.Equal(t, storiesGreedy[:9], res[0].Tokens, "steps %d serial %v", steps, serial)
			assert.Equal(t, "eos", res[0].Stop)
			lens[i] = s.Len(0)
			if !serial {
				// At most one replay per submission plus the dropped one.
				assert.LessOrEqual(t, m.JSCalls()-calls, 2+(9+steps-1)/steps+1+2)
			}
			s.Close()
		}
		assert.Equal(t, lens[0], lens[1], "steps %d: the dropped submission's positions are given back", steps)
	}
	// A session decodes on after a pipelined run: prefill of a further
	// prompt at the position left by the stop, then greedy decoding.
	s, err := m.NewSession(1, 96)
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 32,
		IsStop: func(tok int32) bool { return tok == stop }})
	require.NoError(t, err)
	require.Equal(t, len(storiesPrompt)+9, s.Len(0), "the prompt and the 9 tokens fed back")
	next := append(append(append([]int32(nil), storiesPrompt...), storiesGreedy[:9]...), 403, 261)
	logits, err := s.Logits(testCtx(t), 0, []int32{403, 261}, false)
	require.NoError(t, err)
	assert.Equal(t, sample.Argmax(logits[0]), cpuGreedy(t, next, 1)[0])
}

// A prompt fed in chunks, every chunk but the last submitted before the one
// ahead of it is read back, gives llama.cpp's greedy continuation: chunks of
// one graph back to back (the last one too), and a shorter last chunk on a
// graph of its own. A second request on the session (a new sequence) replays
// the same graphs.
func TestChunkedPrefillPipelined(t *testing.T) {
	for _, chunk := range []int{2, 3, 4} {
		m, err := Load(testCtx(t), openStories(t), LoadOptions{Precision: "f32", Device: sharedDevice(t), MaxChunk: chunk})
		require.NoError(t, err)
		s, err := m.NewSession(1, 64)
		require.NoError(t, err)
		for _, fed := range []int{5, 7} { // prompts of 10 and 12 tokens
			prompt := append(append([]int32(nil), storiesPrompt...), storiesGreedy[:fed]...)
			res, err := s.Generate(testCtx(t), [][]int32{prompt}, GenOptions{MaxTokens: 8, StepsPerSubmit: 4})
			require.NoError(t, err)
			assert.Equal(t, storiesGreedy[fed:fed+8], res[0].Tokens, "chunks of %d, prompt of %d", chunk, len(prompt))
		}
		s.Close()
		m.Close()
	}
}

// Prompts of several lengths prefill in one recorded graph, padded to its
// rows, and generate llama.cpp's tokens; near the cache's end a prompt
// gets its own graph of its length.
func TestPromptsSharePrefillGraph(t *testing.T) {
	m := loadStories(t, "f32")
	prompts := func(s *Session) []stepLayout {
		var lays []stepLayout
		for lay := range s.graphs {
			if lay.T > 1 {
				lays = append(lays, lay)
			}
		}
		return lays
	}
	for _, tc := range []struct {
		length, gen int
		fed         []int // prompts of storiesPrompt and fed greedy tokens
		want        []stepLayout
	}{
		{64, 8, []int{0, 1, 3}, []stepLayout{{B: 1, T: 8, R: 1, Sample: true}}},
		{13, 3, []int{5}, []stepLayout{{B: 1, T: 10, R: 1, Sample: true}}},
	} {
		s, err := m.NewSession(1, tc.length)
		require.NoError(t, err)
		for _, fed := range tc.fed {
			prompt := append(append([]int32(nil), storiesPrompt...), storiesGreedy[:fed]...)
			res, err := s.Generate(testCtx(t), [][]int32{prompt}, GenOptions{MaxTokens: tc.gen, StepsPerSubmit: 1})
			require.NoError(t, err)
			assert.Equal(t, storiesGreedy[fed:fed+tc.gen], res[0].Tokens, "prompt of %d in a cache of %d", len(prompt), tc.length)
		}
		assert.Equal(t, tc.want, prompts(s), "cache of %d", tc.length)
		s.Close()
	}
}

// Four prompts decoded together give the tokens each gives alone.
func TestSeveralSequences(t *testing.T) {
	prompts := [][]int32{
		storiesPrompt,
		{1, 403, 261},
		{1, 300, 301, 302, 303, 304, 305, 306},
		{1, 450, 261},
	}
	const steps = 64
	m := loadStories(t, "f32")
	s, err := m.NewSession(len(prompts), 96)
	require.NoError(t, err)
	defer s.Close()
	// Prompts 1 and 3 have one length: they are prefilled in one step, of
	// 8 rows each (promptRows).
	_, err = s.Plan(stepLayout{B: 2, T: 8, R: 1, Sample: true})
	require.NoError(t, err)
	shapes := len(s.graphs)
	together, err := s.Generate(testCtx(t), prompts, GenOptions{MaxTokens: steps, StepsPerSubmit: 8})
	require.NoError(t, err)
	assert.Equal(t, shapes+2, len(s.graphs), "prefill of 5 and of 8 tokens in one graph, decode of 4 sequences")
	for i, p := range prompts {
		alone, err := m.NewSession(1, 96)
		require.NoError(t, err)
		res, err := alone.Generate(testCtx(t), [][]int32{p}, GenOptions{MaxTokens: steps, StepsPerSubmit: 16})
		require.NoError(t, err)
		alone.Close()
		require.Len(t, together[i].Tokens, steps)
		assert.Equal(t, res[0].Tokens, together[i].Tokens, "prompt %d", i)
	}
	assert.Equal(t, cpuGreedy(t, prompts[2], steps), together[2].Tokens, "the CPU reference agrees")
}

// Sampling (temperature > 0) decodes like greedy: every graph picks its
// tokens on the GPU and reads back only them (no logits), in as many
// replays, two in flight.
func TestSamplingReadsNoLogits(t *testing.T) {
	m := loadStories(t, "f32")
	prompts := [][]int32{storiesPrompt, {1, 403, 261}}
	for _, steps := range []int{1, 4} {
		calls := map[bool]int{}
		for _, sampled := range []bool{false, true} {
			s, err := m.NewSession(len(prompts), 64)
			require.NoError(t, err)
			o := GenOptions{MaxTokens: 12, StepsPerSubmit: steps}
			if sampled {
				o.Sampling = sample.Params{Temperature: 0.9, TopP: 0.95, RepeatPenalty: 1.1, Seed: 8}
			}
			before := m.JSCalls()
			res, err := s.Generate(testCtx(t), prompts, o)
			require.NoError(t, err)
			calls[sampled] = m.JSCalls() - before
			for _, r := range res {
				assert.Len(t, r.Tokens, 12)
			}
			for lay, g := range s.graphs {
				assert.True(t, lay.Sample, "%s: a logits graph", lay)
				assert.Equal(t, sampled, lay.Draw, "%s", lay)
				assert.Same(t, g.step, g.readBuf, "%s reads back the step buffer", lay)
				assert.Equal(t, uint64(4*lay.R*lay.B), g.readLen, "%s reads back its tokens only", lay)
			}
			s.Close()
		}
		assert.Equal(t, calls[false], calls[true], "steps %d: sampling makes the JS calls greedy makes", steps)
	}
}

func TestContextErrors(t *testing.T) {
	m := loadStories(t, "f32")
	s, err := m.NewSession(1, 8)
	require.NoError(t, err)
	defer s.Close()
	long := make([]int32, 12)
	_, err = s.Generate(testCtx(t), [][]int32{long}, GenOptions{MaxTokens: 4})
	var ce *ContextError
	require.ErrorAs(t, err, &ce)
	assert.EqualError(t, err, "prompt of 12 tokens exceeds the context of 8: shorten it or raise --context")

	// A generation that fills the context stops with "length".
	res, err := s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 32, StepsPerSubmit: 2})
	require.NoError(t, err)
	assert.Equal(t, storiesGreedy[:4], res[0].Tokens, "5 prompt tokens + 3 decode steps fill 8 positions")
	assert.Equal(t, "length", res[0].Stop)

	_, err = m.NewSession(1, 1<<20)
	assert.ErrorContains(t, err, "exceeds the model's 2048")
	_, err = s.Logits(testCtx(t), 0, []int32{1, 9999}, true)
	assert.ErrorContains(t, err, "token id 9999 is outside the vocabulary")
}

func TestCancellation(t *testing.T) {
	m := loadStories(t, "f32")
	s, err := m.NewSession(1, 256)
	require.NoError(t, err)
	defer s.Close()
	ctx, cancel := context.WithCancel(testCtx(t))
	n := 0
	_, err = s.Generate(ctx, [][]int32{storiesPrompt}, GenOptions{MaxTokens: 200, StepsPerSubmit: 2,
		OnToken: func(int, int32) {
			if n++; n == 3 {
				cancel()
			}
		}})
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	assert.Less(t, n, 10)

	// A deadline that passes while a replay runs on the GPU: the read-back
	// is abandoned, and the next replay of that graph waits for it first.
	short, stop := context.WithTimeout(testCtx(t), 2*time.Millisecond)
	defer stop()
	_, err = s.Generate(short, [][]int32{storiesPrompt}, GenOptions{MaxTokens: 64, StepsPerSubmit: 2})
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// The session (and its graphs) stay usable after a cancelled replay.
	res, err := s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 8, StepsPerSubmit: 2})
	require.NoError(t, err)
	assert.Equal(t, storiesGreedy[:8], res[0].Tokens)
}

// A lost device gives an error that says so; loading again works.
func TestDeviceLost(t *testing.T) {
	src := openStories(t)
	m, err := Load(testCtx(t), src, LoadOptions{Precision: "f32"})
	require.NoError(t, err)
	s, err := m.NewSession(1, 64)
	require.NoError(t, err)
	_, err = s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 2})
	require.NoError(t, err)
	m.Backend.dev.Destroy()
	for m.Backend.dev.Lost() == "" {
		require.NoError(t, testCtx(t).Err())
		runtimeYield()
	}
	_, err = s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 4})
	require.ErrorIs(t, err, ErrDeviceLost)
	assert.ErrorContains(t, err, "load the model again")
	m.Close()

	m2, err := Load(testCtx(t), src, LoadOptions{Precision: "f32"})
	require.NoError(t, err)
	defer m2.Close()
	s2, err := m2.NewSession(1, 64)
	require.NoError(t, err)
	res, err := s2.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 8, StepsPerSubmit: 4})
	require.NoError(t, err)
	assert.Equal(t, storiesGreedy[:8], res[0].Tokens)
}

// Logits of every row are computed in chunks whose logits fit the device's
// largest binding (here lowered to 3 rows of stories260K's 512-entry vocab).
func TestLogitsChunkedByBinding(t *testing.T) {
	m := loadStories(t, "f32")
	s, err := m.NewSession(1, 16)
	require.NoError(t, err)
	want, err := s.Logits(testCtx(t), 0, storiesPrompt, true)
	require.NoError(t, err)
	s.Close()

	small, err := Load(testCtx(t), openStories(t), LoadOptions{Precision: "f32"}) // its own device and ops context
	require.NoError(t, err)
	defer small.Close()
	small.Backend.ops.MaxBinding = 3 * 512 * 4
	s2, err := small.NewSession(1, 16)
	require.NoError(t, err)
	defer s2.Close()
	got, err := s2.Logits(testCtx(t), 0, storiesPrompt, true)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		for j := range want[i] {
			require.InDelta(t, want[i][j], got[i][j], 1e-5, "position %d", i)
		}
	}
	_, ok := s2.graphs[stepLayout{B: 1, T: 3, R: 1, All: true}]
	assert.True(t, ok, "chunks of 3 rows")
}

// 128 tokens past EOS: 1, 4 and 16 decode steps per submission give the
// same tokens, which are the CPU reference's.
func TestStories128(t *testing.T) {
	m := loadStories(t, "f32")
	want := cpuGreedy(t, storiesPrompt, 128)
	for _, steps := range []int{1, 4, 16} {
		s, err := m.NewSession(1, 160)
		require.NoError(t, err)
		res, err := s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 128, StepsPerSubmit: steps})
		require.NoError(t, err)
		s.Close()
		assert.Equal(t, want, res[0].Tokens, "steps per submit %d", steps)
	}
}

// The backend also runs eagerly under arch.Runner (one submission and one
// read per step): same tokens as the recorded graphs.
func TestArchRunnerOnBackend(t *testing.T) {
	be, err := NewBackend(testCtx(t), sharedDevice(t), BackendOptions{Precision: 0})
	require.NoError(t, err)
	m, err := arch.Load(openStories(t), be)
	require.NoError(t, err)
	r := arch.NewRunner(m, be, 2, 32)
	logits, err := r.Feed([]int{1}, [][]int32{storiesPrompt}, false)
	require.NoError(t, err)
	var got []int32
	for len(got) < 8 {
		got = append(got, sample.Argmax(logits[0]))
		logits, err = r.Feed([]int{1}, [][]int32{{got[len(got)-1]}}, false)
		require.NoError(t, err)
	}
	assert.Equal(t, storiesGreedy[:8], got)
}
