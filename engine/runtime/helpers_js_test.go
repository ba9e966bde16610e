//go:build js && wasm

package runtime

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/synth"
)

var (
	devOnce sync.Once
	testDev *gpu.Device
	devErr  error
)

// sharedDevice opens one device for the package's tests (lavapipe starts slowly).
func sharedDevice(t *testing.T) *gpu.Device {
	t.Helper()
	devOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		testDev, devErr = gpu.Open(ctx, gpu.Options{})
	})
	require.NoError(t, devErr, "run js/wasm tests through build/wasm-exec (Node + Dawn)")
	return testDev
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openStories(t *testing.T) model.Source {
	p, err := refdata.Stories260K()
	src, err := model.Open(refdata.Must(t, p, err))
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	return src
}

func loadStories(t *testing.T, prec string) *Model {
	t.Helper()
	m, err := Load(testCtx(t), openStories(t), LoadOptions{Precision: prec, Device: sharedDevice(t)})
	require.NoError(t, err)
	return m
}

// From ../shared/models/README.md: llama.cpp's greedy run of stories260K.
var (
	storiesPrompt = []int32{1, 403, 407, 261, 378}
	storiesGreedy = []int32{432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394}
)

// runtimeYield lets JS callbacks (promise resolutions) run.
func runtimeYield() { time.Sleep(10 * time.Millisecond) }

// openSynth writes the tiny shape of arch in dtype and opens it (closed
// with the test).
func openSynth(t *testing.T, arch, dtype string, seed uint64) model.Source {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gguf")
	_, err := synth.WriteFile(path, synth.Options{Arch: arch, Shape: "tiny", DType: dtype, Seed: seed})
	require.NoError(t, err)
	src, err := model.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	return src
}

// fusionRun is what a fusion test compares between plans: a decode step's
// plan (launches, ops by name) and logits, a prompt chunk's ops, greedy
// tokens.
type fusionRun struct {
	launches     int
	ops, prefill map[string]int
	logits       []float32
	tokens       []int32
}

// runFusion feeds prompt to a fresh session of m but its last token, then
// that token as a one-row step (its logits), lists the decode and a
// 3-row chunk's plans, and generates 8 greedy tokens in another session.
func runFusion(t *testing.T, m *Model, prompt []int32, length int) fusionRun {
	t.Helper()
	planOps := func(s *Session, lay stepLayout) (map[string]int, int) {
		g, err := s.graph(lay)
		require.NoError(t, err)
		ops := map[string]int{}
		for _, e := range g.rec.plan(lay).Entries {
			ops[e.Op]++
		}
		return ops, g.rec.dispatches()
	}
	n := len(prompt)
	s, err := m.NewSession(1, length)
	require.NoError(t, err)
	_, err = s.Logits(testCtx(t), 0, prompt[:n-1], false)
	require.NoError(t, err)
	l, err := s.Logits(testCtx(t), 0, prompt[n-1:], false)
	require.NoError(t, err)
	var r fusionRun
	r.ops, r.launches = planOps(s, stepLayout{B: 1, T: 1, R: 1, Sample: true})
	r.prefill, _ = planOps(s, stepLayout{B: 1, T: 3, R: 1, All: true})
	r.logits = l[0]
	s.Close()
	s, err = m.NewSession(1, length)
	require.NoError(t, err)
	defer s.Close()
	res, err := s.Generate(testCtx(t), [][]int32{prompt}, GenOptions{MaxTokens: 8})
	require.NoError(t, err)
	r.tokens = res[0].Tokens
	return r
}

// runFusions is runFusion with the fusion a knob (a gpuops ...Fixed
// variable) turns off (-1) and on (1: lavapipe is a fallback adapter,
// where the fusions are off by default).
func runFusions(t *testing.T, m *Model, prompt []int32, length int, knob *int) (plain, fused fusionRun) {
	t.Helper()
	*knob = -1
	plain = runFusion(t, m, prompt, length)
	*knob = 1
	fused = runFusion(t, m, prompt, length)
	return plain, fused
}

// requireSameOutput checks that a fused plan's logits are the unfused
// plan's to within tol (relative, with as much absolute), and its greedy
// tokens the same.
func requireSameOutput(t *testing.T, plain, fused fusionRun, tol float64) {
	t.Helper()
	require.Len(t, fused.logits, len(plain.logits))
	for i := range plain.logits {
		require.InDelta(t, plain.logits[i], fused.logits[i], tol+tol*float64(abs32(plain.logits[i])), "logit %d", i)
	}
	assert.Equal(t, plain.tokens, fused.tokens)
}
