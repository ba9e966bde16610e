package gpuops

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/doppler-engine/doppler/engine/sample"
)

func TestSampleSettings(t *testing.T) {
	tests := []struct {
		name          string
		p             sample.Params
		vocab, window int
		want          sampleUniform
	}{
		{"top-k top-p", sample.Params{Temperature: 0.8, TopK: 40, TopP: 0.9, Seed: 7}, 1000, 64,
			sampleUniform{Temperature: 0.8, TopP: 0.9, Penalty: 1, Seed: 7, K: 40}},
		{"top-k 0 is the cap", sample.Params{Temperature: 1, TopP: 1.5}, 262144, 64,
			sampleUniform{Temperature: 1, TopP: 1, Penalty: 1, K: sample.MaxCandidates}},
		{"64-bit seed folded", sample.Params{Temperature: 1, Seed: 0x5_0000_0003}, 10, 8,
			sampleUniform{Temperature: 1, TopP: 1, Penalty: 1, Seed: 6, K: 10}},
		{"penalty last n", sample.Params{Temperature: 1, RepeatPenalty: 1.3, RepeatLastN: 16}, 100, 64,
			sampleUniform{Temperature: 1, TopP: 1, Penalty: 1.3, K: 100, LastN: 16}},
		{"penalty last n 0 is the window", sample.Params{Temperature: 1, RepeatPenalty: 1.3}, 100, 513,
			sampleUniform{Temperature: 1, TopP: 1, Penalty: 1.3, K: 100, LastN: 513}},
		{"last n past the window", sample.Params{Temperature: 1, RepeatPenalty: 1.3, RepeatLastN: 1000}, 100, 64,
			sampleUniform{Temperature: 1, TopP: 1, Penalty: 1.3, K: 100, LastN: 64}},
		{"greedy penalty is top-k 1", sample.Params{RepeatPenalty: 2, TopK: 40, TopP: 0.5}, 100, 64,
			sampleUniform{Temperature: 1, TopP: 1, Penalty: 2, K: 1, LastN: 64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sampleSettings(tt.p, tt.vocab, tt.window))
		})
	}
}

func TestNewHistory(t *testing.T) {
	tests := []struct {
		name   string
		window int
		tokens []int32
		want   []int32
	}{
		{"empty", 3, nil, []int32{0, 0, 0, 0}},
		{"fits", 4, []int32{7, 8}, []int32{2, 7, 8, 0, 0}},
		{"wraps", 3, []int32{7, 8, 9, 10}, []int32{4, 10, 8, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, NewHistory(tt.window, tt.tokens))
		})
	}
}
