// Package sample picks the next token from logits: greedy, or seeded random
// sampling with temperature, top-k, top-p and a repetition penalty. It is
// the reference of the WebGPU sampler (engine/gpuops, kernels/sample*.wgsl),
// which follows the same steps in the same f32 arithmetic, so for the same
// logits, history, parameters and seed both pick the same token (up to the
// last bits of exp, see SampleMargin).
//
// The order of operations is fixed:
//
//  1. Repetition penalty: every distinct token among the last RepeatLastN
//     tokens of the history (0 = all of it) has its logit divided by
//     RepeatPenalty when positive, multiplied otherwise (llama.cpp's rule).
//  2. Temperature 0: return the largest logit (ties: the lower id). Done.
//  3. Candidates: the K largest logits, ordered by value, ties by lower id,
//     with K = TopK clamped to [1, min(MaxCandidates, vocabulary)] (TopK 0
//     means MaxCandidates). The cap lets a GPU workgroup hold every
//     candidate; llama.cpp's default top-k is 40, and at sane temperatures
//     the probability mass past the 256th logit is negligible.
//  4. Weights w_j = exp((v_j - v_0) / Temperature) in f32 (the difference
//     and the quotient rounded to f32 too), summed in order into total.
//  5. Top-p (0 < TopP < 1): keep the shortest prefix whose running sum
//     reaches TopP·total (at least one token); kept is that sum.
//  6. Draw u in [0, 1) and pick the first kept candidate whose running sum
//     exceeds u·kept (the last kept one if rounding leaves none).
//
// The random number is counter-based so a GPU reproduces it with 32-bit
// integer math and no state: u = (h >> 8) / 2^24 with
// h = pcg(pcg(seed32) ^ n), where seed32 folds the 64-bit seed's halves
// with xor and n is the length of the history (prompt and generated tokens
// so far). A draw therefore depends only on the sequence itself: not on how
// decode steps are grouped into GPU submissions, nor on other sequences of
// a batch.
package sample

import (
	"math"
	"slices"
)

// MaxCandidates is the most tokens sampling draws among (see step 3).
const MaxCandidates = 256

// Params configures sampling. The zero value is greedy.
type Params struct {
	Temperature   float32 // 0 = greedy
	TopK          int     // 0 = MaxCandidates
	TopP          float32 // 0 or ≥ 1 = off
	RepeatPenalty float32 // 0 or 1 = off
	RepeatLastN   int     // tokens of history the penalty looks at; 0 = all
	Seed          uint64
}

// Penalized reports whether the repetition penalty is on.
func (p Params) Penalized() bool { return p.RepeatPenalty != 0 && p.RepeatPenalty != 1 }

// Greedy reports whether the token is the argmax of the raw logits.
func (p Params) Greedy() bool { return p.Temperature <= 0 && !p.Penalized() }

// Candidates is K of step 3 for a vocabulary of vocab tokens.
func (p Params) Candidates(vocab int) int {
	limit := min(MaxCandidates, vocab)
	if p.TopK <= 0 || p.TopK > limit {
		return limit
	}
	return p.TopK
}

// Seed32 is the seed the draw hashes: the 64-bit seed's halves xor-ed.
func (p Params) Seed32() uint32 { return uint32(p.Seed) ^ uint32(p.Seed>>32) }

// Sampler draws tokens with fixed parameters. It holds no state: the
// random stream is indexed by the history's length.
type Sampler struct{ p Params }

// New returns a sampler.
func New(p Params) *Sampler { return &Sampler{p: p} }

// Sample picks the token that follows history (the whole sequence so far:
// prompt and generated tokens). logits is not modified.
func (s *Sampler) Sample(logits []float32, history []int32) int32 {
	tok, _ := SampleMargin(s.p, logits, history)
	return tok
}

// SampleMargin is Sample that also reports how close the decision came to
// a boundary: the smallest distance, relative to the sums, between a
// running sum and the top-p cut or the draw's target (+Inf when nothing was
// drawn). exp in f32 may differ in its last bits between CPU and GPU, so a
// comparison with the GPU sampler is only meaningful when the margin is
// clearly above f32 rounding (~1e-6).
func SampleMargin(p Params, logits []float32, history []int32) (int32, float64) {
	l := logits
	if p.Penalized() {
		l = penalize(logits, history, p.RepeatPenalty, p.RepeatLastN)
	}
	if p.Temperature <= 0 {
		return Argmax(l), math.Inf(1)
	}
	cand := topK(l, p.Candidates(len(l)))
	temp := p.Temperature
	m := cand[0].v
	w := make([]float32, len(cand))
	var total float32
	for j, c := range cand {
		d := (c.v - m) / temp
		w[j] = float32(math.Exp(float64(d)))
		total += w[j]
	}
	margin := math.Inf(1)
	n, kept := len(cand), total
	if p.TopP > 0 && p.TopP < 1 {
		goal := p.TopP * total
		var c float32
		for j := range w {
			c += w[j]
			margin = math.Min(margin, math.Abs(float64(c-goal))/float64(total))
			if c >= goal {
				n, kept = j+1, c
				break
			}
		}
	}
	target := Uniform(p.Seed32(), uint32(len(history))) * kept
	pick := n - 1
	var c float32
	for j := 0; j < n; j++ {
		c += w[j]
		margin = math.Min(margin, math.Abs(float64(c-target))/float64(kept))
		if c > target {
			pick = j
			break
		}
	}
	return cand[pick].id, margin
}

// Argmax is the index of the largest value (the lowest index among ties).
func Argmax(l []float32) int32 {
	best := 0
	for i, v := range l {
		if v > l[best] {
			best = i
		}
	}
	return int32(best)
}

// Uniform is the draw for history length n: (h >> 8) / 2^24 with
// h = pcg(pcg(seed32) ^ n).
func Uniform(seed32, n uint32) float32 {
	h := pcg(pcg(seed32) ^ n)
	return float32(h>>8) / (1 << 24)
}

func penalize(logits []float32, history []int32, penalty float32, lastN int) []float32 {
	l := append([]float32(nil), logits...)
	if lastN > 0 && len(history) > lastN {
		history = history[len(history)-lastN:]
	}
	seen := map[int32]bool{}
	for _, id := range history {
		if id < 0 || int(id) >= len(l) || seen[id] {
			continue
		}
		seen[id] = true
		if l[id] > 0 {
			l[id] /= penalty
		} else {
			l[id] *= penalty
		}
	}
	return l
}

type candidate struct {
	v  float32
	id int32
}

// before orders candidates: larger value first, then lower id.
func before(a, b candidate) int {
	switch {
	case a.v > b.v || a.v == b.v && a.id < b.id:
		return -1
	case a == b:
		return 0
	}
	return 1
}

// topK returns the k best logits in order. It keeps a buffer of at most 2k
// and trims it to the best k when full: O(vocab) for a small k instead of
// sorting the whole vocabulary.
func topK(l []float32, k int) []candidate {
	buf := make([]candidate, 0, 2*k)
	full := false // buf holds the best k so far and thr is the k-th value
	var thr float32
	for i, v := range l {
		// Ids ascend: an equal value now sorts after the k-th candidate.
		if full && !(v > thr) {
			continue
		}
		buf = append(buf, candidate{v, int32(i)})
		if len(buf) == cap(buf) {
			slices.SortFunc(buf, before)
			buf = buf[:k]
			full, thr = true, buf[k-1].v
		}
	}
	slices.SortFunc(buf, before)
	return buf[:min(k, len(buf))]
}

// pcg is the PCG-RXS-M-XS 32-bit hash (Jarzynski & Olano, "Hash Functions
// for GPU Rendering", 2020).
func pcg(v uint32) uint32 {
	state := v*747796405 + 2891336453
	word := ((state >> ((state >> 28) + 4)) ^ state) * 277803737
	return (word >> 22) ^ word
}
