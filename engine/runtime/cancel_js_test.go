//go:build js && wasm

package runtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/tasks"
)

// A model loaded under a request that was cancelled afterwards (as the
// extension's first task, stopped) still compiles the kernels a later step
// shape needs on first use.
func TestLoadContextCancelledLater(t *testing.T) {
	ctx, cancel := context.WithCancel(testCtx(t))
	m, err := Load(ctx, openStories(t), LoadOptions{Precision: "f32", Device: sharedDevice(t)})
	require.NoError(t, err)
	defer m.Close()
	cancel()
	s, err := m.NewSession(1, 64)
	require.NoError(t, err)
	defer s.Close()
	res, err := s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 8})
	require.NoError(t, err)
	assert.Equal(t, storiesGreedy[:8], res[0].Tokens)
}

// A generation cancelled from outside while decode submissions are in
// flight (as the extension's Stop does) leaves the generator ready: the
// next request, on the same session and graphs, gives what it gives alone.
func TestTaskGeneratorCancelThenNext(t *testing.T) {
	m := loadStories(t, "f32")
	for _, after := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		g := &TaskGenerator{Model: m}
		ctx, cancel := context.WithCancel(testCtx(t))
		n := 0
		_, err := g.GenerateBatch(ctx, [][]int32{storiesPrompt}, tasks.GenOptions{MaxTokens: 200}, func(int, int32) bool {
			if n++; n == 3 {
				go func() { time.Sleep(after); cancel() }()
			}
			return true
		})
		if err != nil {
			assert.True(t, errors.Is(err, context.Canceled), "after %v: %v", after, err)
		}
		next, stop := context.WithTimeout(testCtx(t), 20*time.Second)
		gens, err := g.GenerateBatch(next, [][]int32{storiesPrompt}, tasks.GenOptions{MaxTokens: 8}, nil)
		stop()
		require.NoError(t, err, "after %v", after)
		assert.Equal(t, storiesGreedy[:8], gens[0].Tokens, "after %v", after)
		g.Close()
		cancel()
	}
}
