package gpuops

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSampleCPUGreedyCases(t *testing.T) {
	logits := []float32{0.5, 3, 3, -1, 2}
	// k = 1 keeps the largest logit, the lower index on ties.
	tok, _ := SampleCPU(logits, NewHistory(4, nil), 0, SampleParams{Temperature: 1, TopK: 1, Seed: 9})
	assert.Equal(t, int32(1), tok)
	// A penalty on token 1 (positive logit divided) hands the win to token 2.
	tok, _ = SampleCPU(logits, NewHistory(4, []int32{1, 1}), 0, SampleParams{Temperature: 1, TopK: 1, RepeatPenalty: 2})
	assert.Equal(t, int32(2), tok)
	// A tiny top-p keeps only the best candidate.
	tok, _ = SampleCPU(logits, NewHistory(0, nil), 0, SampleParams{Temperature: 1, TopP: 0.01, Seed: 5})
	assert.Equal(t, int32(1), tok)
}

func TestSampleCPUHistory(t *testing.T) {
	h := NewHistory(3, []int32{7, 8, 9, 10})
	assert.Equal(t, []int32{4, 10, 8, 9}, h)
	logits := make([]float32, 20)
	tok, _ := SampleCPU(logits, h, 0, SampleParams{Temperature: 1, TopK: 1})
	assert.Equal(t, int32(0), tok)
	assert.Equal(t, []int32{5, 10, 0, 9}, h)
}

// TestSampleCPUDistribution checks that draws over many history counts
// follow softmax(logits / T) restricted to the top k.
func TestSampleCPUDistribution(t *testing.T) {
	logits := []float32{1, 0.2, 2, -0.5, 1.5, -3}
	p := SampleParams{Temperature: 0.7, TopK: 4, Seed: 1234}
	want := make([]float64, len(logits))
	var sum float64
	for _, i := range []int{2, 4, 0, 1} { // the top 4
		want[i] = math.Exp(float64(logits[i]) / 0.7)
		sum += want[i]
	}
	const n = 40000
	counts := make([]float64, len(logits))
	h := NewHistory(0, nil)
	for range n {
		tok, _ := SampleCPU(logits, h, 0, p)
		counts[tok]++
	}
	for i := range logits {
		assert.InDelta(t, want[i]/sum, counts[i]/n, 0.01, "token %d", i)
	}
}

func TestSampleDrawUniform(t *testing.T) {
	// The counter-based draws are uniform enough: mean and spread of u.
	var s, s2 float64
	const n = 100000
	for i := range uint32(n) {
		u := float64(sampleUniformDraw(77, i, 0))
		require.True(t, u >= 0 && u < 1)
		s += u
		s2 += u * u
	}
	assert.InDelta(t, 0.5, s/n, 0.005)
	assert.InDelta(t, 1.0/12, s2/n-(s/n)*(s/n), 0.002)
}
