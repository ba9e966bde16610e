package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGreedy(t *testing.T) {
	tests := []struct {
		name   string
		logits []float32
		want   int32
	}{
		{"max", []float32{0, 3, 1}, 1},
		{"tie lower id", []float32{2, 5, 5, 1}, 1},
		{"negative", []float32{-3, -1, -2}, 1},
		{"single", []float32{7}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, New(Params{}).Sample(tt.logits, nil))
		})
	}
}

func TestRepeatPenalty(t *testing.T) {
	// Token 0 leads, but is penalized below token 1; negative logits get more negative.
	logits := []float32{2, 1.5, -1}
	s := New(Params{RepeatPenalty: 2})
	assert.Equal(t, int32(1), s.Sample(logits, []int32{0, 0, 2}))
	assert.Equal(t, []float32{2, 1.5, -1}, logits, "input untouched")
	assert.Equal(t, []float32{1, 1.5, -2}, penalize(logits, []int32{0, 2, 0}, 2, 0))
	assert.Equal(t, []float32{2, 1.5, -2}, penalize(logits, []int32{0, 2}, 2, 1), "only the last N")
}

// Sampling follows the probabilities: frequencies over many draws (one per
// history length) match the softmax of logits/temperature restricted by top-k/top-p.
func TestDistribution(t *testing.T) {
	logits := []float32{1, 0, 2, -1, 0.5}
	tests := []struct {
		name string
		p    Params
		want map[int32]float64 // expected probabilities (others 0)
	}{
		{"temperature 1", Params{Temperature: 1, Seed: 1}, softmaxOf(logits, 1, []int32{0, 1, 2, 3, 4})},
		{"temperature 0.5", Params{Temperature: 0.5, Seed: 2}, softmaxOf(logits, 0.5, []int32{0, 1, 2, 3, 4})},
		{"top-k 2", Params{Temperature: 1, TopK: 2, Seed: 3}, softmaxOf(logits, 1, []int32{2, 0})},
		// softmax(logits): p(2)=.536 p(0)=.197 p(4)=.120 …; top-p 0.7 keeps {2, 0}.
		{"top-p 0.7", Params{Temperature: 1, TopP: 0.7, Seed: 4}, softmaxOf(logits, 1, []int32{2, 0})},
		{"top-p tiny keeps one", Params{Temperature: 1, TopP: 0.01, Seed: 5}, map[int32]float64{2: 1}},
	}
	const n = 20000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.p)
			count := map[int32]int{}
			hist := make([]int32, n) // the draw is indexed by the history's length
			for i := range n {
				count[s.Sample(logits, hist[:i])]++
			}
			for id := int32(0); id < int32(len(logits)); id++ {
				assert.InDelta(t, tt.want[id], float64(count[id])/n, 0.015, "token %d", id)
			}
		})
	}
}

func softmaxOf(logits []float32, temp float64, ids []int32) map[int32]float64 {
	out := map[int32]float64{}
	var sum float64
	for _, id := range ids {
		out[id] = math.Exp(float64(logits[id]) / temp)
		sum += out[id]
	}
	for id := range out {
		out[id] /= sum
	}
	return out
}

func TestDeterministic(t *testing.T) {
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32(i%37) / 10
	}
	draw := func(seed uint64) []int32 {
		s := New(Params{Temperature: 0.9, TopK: 50, TopP: 0.95, Seed: seed})
		var out []int32
		for range 50 {
			out = append(out, s.Sample(logits, out))
		}
		return out
	}
	a, b, c := draw(42), draw(42), draw(43)
	require.Equal(t, a, b, "same seed, same tokens")
	assert.NotEqual(t, a, c, "another seed, other tokens")
}

// The counter-based generator is fixed by the documented formula; these
// values pin it so a GPU port can be checked against them.
func TestUniformPinned(t *testing.T) {
	p := Params{Seed: 0x1_0000_0002}
	assert.Equal(t, uint32(3), p.Seed32())
	assert.Equal(t, []uint32{0x07bb2fe2, 0xa8beea3c, 0xf45ead0e}, []uint32{pcg(0), pcg(1), pcg(12345)})
	u0, u1 := Uniform(3, 0), Uniform(3, 1)
	assert.Equal(t, float32(pcg(pcg(3))>>8)/(1<<24), u0)
	assert.Equal(t, float32(pcg(pcg(3)^1)>>8)/(1<<24), u1)
	assert.GreaterOrEqual(t, u0, float32(0))
	assert.Less(t, u0, float32(1))
}

// The draw depends on the history's length, not its content nor on the
// sampler's past: a batched or resumed sequence gets the same token.
func TestDrawIndexedByLength(t *testing.T) {
	logits := make([]float32, 500)
	for i := range logits {
		logits[i] = float32(i%23) / 7
	}
	p := Params{Temperature: 1.2, Seed: 77}
	s := New(p)
	a := s.Sample(logits, []int32{1, 2, 3})
	for range 5 {
		s.Sample(logits, []int32{9})
	}
	assert.Equal(t, a, s.Sample(logits, []int32{4, 5, 6}), "same length, same draw")
	assert.Equal(t, a, New(p).Sample(logits, []int32{7, 8, 9}))
	var got []int32
	for n := range 40 {
		got = append(got, s.Sample(logits, make([]int32, n)))
	}
	assert.Greater(t, len(distinct(got)), 10, "lengths index different draws")
}

func distinct(ids []int32) map[int32]bool {
	m := map[int32]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func TestParams(t *testing.T) {
	tests := []struct {
		name      string
		p         Params
		vocab     int
		k         int
		greedy    bool
		penalized bool
	}{
		{"zero", Params{}, 1000, 256, true, false},
		{"top-k 40", Params{Temperature: 1, TopK: 40}, 1000, 40, false, false},
		{"top-k 0 caps", Params{Temperature: 1}, 262144, MaxCandidates, false, false},
		{"top-k over cap", Params{Temperature: 1, TopK: 1000}, 262144, MaxCandidates, false, false},
		{"small vocab", Params{Temperature: 1, TopK: 0}, 10, 10, false, false},
		{"penalty 1 is off", Params{RepeatPenalty: 1}, 10, 10, true, false},
		{"greedy with penalty", Params{RepeatPenalty: 1.1}, 10, 10, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.k, tt.p.Candidates(tt.vocab))
			assert.Equal(t, tt.greedy, tt.p.Greedy())
			assert.Equal(t, tt.penalized, tt.p.Penalized())
		})
	}
}

// topK agrees with sorting everything, ties included.
func TestTopK(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		vocab, k int
		grid     bool // coarse values: many ties
	}{{10, 3, false}, {10, 10, false}, {5000, 256, false}, {5000, 40, true}, {3000, 256, true}, {600, 1, true}} {
		l := make([]float32, tc.vocab)
		for i := range l {
			l[i] = float32(r.NormFloat64() * 3)
			if tc.grid {
				l[i] = float32(math.Round(float64(l[i])))
			}
		}
		all := make([]candidate, len(l))
		for i, v := range l {
			all[i] = candidate{v, int32(i)}
		}
		slices.SortFunc(all, before)
		assert.Equal(t, all[:tc.k], topK(l, tc.k), "vocab %d k %d", tc.vocab, tc.k)
	}
}

// With TopK 0 only the best MaxCandidates tokens can be drawn, even when
// the rest of a flat distribution holds most of the mass.
func TestCandidateCap(t *testing.T) {
	logits := make([]float32, 4*MaxCandidates)
	for i := range logits {
		logits[i] = -float32(i) * 1e-3
	}
	s := New(Params{Temperature: 5, Seed: 3})
	for n := range 2000 {
		assert.Less(t, s.Sample(logits, make([]int32, n%97)), int32(MaxCandidates))
	}
}

// Table of exact picks: the documented steps by hand.
func TestPicks(t *testing.T) {
	logits := []float32{0.5, 3, 3, -1, 2}
	tests := []struct {
		name    string
		p       Params
		history []int32
		want    int32
	}{
		{"top-k 1 keeps the lower id of a tie", Params{Temperature: 1, TopK: 1, Seed: 9}, nil, 1},
		{"penalty hands the win to token 2", Params{Temperature: 1, TopK: 1, RepeatPenalty: 2}, []int32{1, 1}, 2},
		{"greedy penalty", Params{RepeatPenalty: 2}, []int32{1, 1}, 2},
		{"penalty window misses token 1", Params{RepeatPenalty: 2, RepeatLastN: 2}, []int32{1, 0, 4}, 1},
		{"penalty window 0 is all", Params{RepeatPenalty: 4, RepeatLastN: 0}, []int32{1, 2, 0, 0, 0, 0, 0, 0}, 4},
		{"tiny top-p keeps one", Params{Temperature: 1, TopP: 0.01, Seed: 5}, nil, 1},
		{"penalized leaders fall behind token 0", Params{Temperature: 1, TopK: 1, RepeatPenalty: 8}, []int32{1, 2, 4}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, New(tt.p).Sample(logits, tt.history))
		})
	}
}

// SampleMargin's pick follows u: the candidate whose cumulative interval
// holds u·kept, computed here independently in float64.
func TestPickFollowsUniform(t *testing.T) {
	logits := []float32{1, 0.2, 2, -0.5, 1.5, -3}
	p := Params{Temperature: 0.7, TopK: 4, TopP: 0.9, Seed: 1234}
	order := []int32{2, 4, 0, 1}
	for n := range 200 {
		hist := make([]int32, n)
		got, margin := SampleMargin(p, logits, hist)
		w := make([]float64, len(order))
		var total float64
		for j, id := range order {
			w[j] = math.Exp((float64(logits[id]) - 2) / 0.7)
			total += w[j]
		}
		keep, kept := len(order), total
		var c float64
		for j := range w {
			c += w[j]
			if c >= 0.9*total {
				keep, kept = j+1, c
				break
			}
		}
		target := float64(Uniform(p.Seed32(), uint32(n))) * kept
		want := order[keep-1]
		c = 0
		for j := 0; j < keep; j++ {
			c += w[j]
			if c > target {
				want = order[j]
				break
			}
		}
		if margin > 1e-5 {
			require.Equal(t, want, got, "history length %d", n)
		}
	}
}
