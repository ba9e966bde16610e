package arch_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/doppler-engine/doppler/engine/sample"
)

// From ../shared/models/README.md: llama.cpp's greedy run of stories260K on
// "Once upon a time" (BOS + 4 tokens), and the top-5 ln p at the first
// generated position.
var (
	storiesPrompt = refdata.Stories260KPrompt()
	storiesGreedy = refdata.Stories260KGreedy()
	storiesTop5   = []struct {
		id      int
		logprob float64
	}{{432, -0.03178}, {383, -3.54730}, {322, -8.11946}, {353, -8.24348}, {323, -8.69157}}
)

// The README's figures come from llama.cpp's default context: an F16 KV
// cache and CPU flash attention, which rounds q and the running weighted sum
// of v to f16. Exact f32 math differs from them by up to 5.3e-3 (with flash
// attention off and an F32 KV cache llama.cpp gives our f32 values to 1e-5:
// the oracle golden stories260K.json). Emulating that rounding
// (ref.NewLlamaCppDefaults) brings every figure within 1e-3 (worst 9.2e-4).
const (
	readmeTolerance         = 1e-3
	readmeTolerancePlainF32 = 6e-3
)

func TestStories260K(t *testing.T) {
	p, err := refdata.Stories260K()
	path := refdata.Must(t, p, err)
	src, err := model.Open(path)
	require.NoError(t, err)
	defer src.Close()
	for _, tt := range []struct {
		name string
		be   *ref.Backend
		tol  float64
	}{
		{"llama.cpp defaults emulated", ref.NewLlamaCppDefaults(), readmeTolerance},
		{"plain f32", ref.New(), readmeTolerancePlainF32},
	} {
		m, err := arch.Load(src, tt.be)
		require.NoError(t, err)
		logits, err := arch.NewRunner(m, tt.be, 1, 8).Feed([]int{0}, [][]int32{storiesPrompt}, false)
		require.NoError(t, err)
		lp := logSoftmax(logits[0])
		for _, want := range storiesTop5 {
			assert.InDelta(t, want.logprob, lp[want.id], tt.tol, "%s: ln p of %d", tt.name, want.id)
		}
	}

	// Greedy generation with the plain f32 reference gives llama.cpp's tokens.
	be := ref.New()
	m, err := arch.Load(src, be)
	require.NoError(t, err)
	r := arch.NewRunner(m, be, 1, 64)
	logits, err := r.Feed([]int{0}, [][]int32{storiesPrompt}, false)
	require.NoError(t, err)
	var got []int32
	for len(got) < len(storiesGreedy) {
		next := sample.Argmax(logits[0])
		got = append(got, next)
		logits, err = r.Feed([]int{0}, [][]int32{{next}}, false)
		require.NoError(t, err)
	}
	assert.Equal(t, storiesGreedy, got)
}

func logSoftmax(l []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range l {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for _, v := range l {
		s += math.Exp(float64(v) - mx)
	}
	lse := mx + math.Log(s)
	out := make([]float64, len(l))
	for i, v := range l {
		out[i] = float64(v) - lse
	}
	return out
}
