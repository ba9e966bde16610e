// Package sample picks the next token from logits: greedy, or seeded random
// sampling with temperature, top-k, top-p and a repetition penalty.
//
// The order of operations is fixed (the WebGPU sampler follows the same):
//
//  1. Repetition penalty: every distinct token among the last RepeatLastN of
//     history has its logit divided by RepeatPenalty when positive,
//     multiplied when negative (llama.cpp's rule).
//  2. Temperature 0: return the largest logit (ties: the lower id). Done.
//  3. Candidates sorted by logit, descending, ties by lower id; top-k keeps
//     the first TopK.
//  4. Divide the candidates' logits by Temperature; softmax over them.
//  5. Top-p keeps the shortest prefix whose probabilities sum to at least
//     TopP (always at least one token).
//  6. Draw u in [0, 1) and walk the kept prefix's cumulative probabilities
//     (renormalized to the prefix) until it exceeds u.
//
// The random number is counter-based so a GPU can reproduce it with 32-bit
// integer math: u = (h >> 8) / 2^24 with h = pcg(pcg(seed32) ^ step), where
// seed32 folds the 64-bit seed's halves with xor and step counts the draws
// the sampler made so far (0 for the first).
package sample

import (
	"math"
	"sort"
)

// Params configures sampling. The zero value is greedy.
type Params struct {
	Temperature   float32 // 0 = greedy
	TopK          int     // 0 = all tokens
	TopP          float32 // 0 or ≥ 1 = off
	RepeatPenalty float32 // 0 or 1 = off
	RepeatLastN   int     // tokens of history the penalty looks at; 0 = all
	Seed          uint64
}

// Sampler draws tokens; it is deterministic for a seed.
type Sampler struct {
	p    Params
	step uint32
}

// New returns a sampler.
func New(p Params) *Sampler { return &Sampler{p: p} }

// Sample picks the next token. logits is not modified; history is the
// sequence so far (prompt and generated tokens) for the repetition penalty.
func (s *Sampler) Sample(logits []float32, history []int32) int32 {
	l := logits
	if s.p.RepeatPenalty != 0 && s.p.RepeatPenalty != 1 {
		l = penalize(logits, history, s.p.RepeatPenalty, s.p.RepeatLastN)
	}
	if s.p.Temperature <= 0 {
		return Argmax(l)
	}
	ids := make([]int32, len(l))
	for i := range ids {
		ids[i] = int32(i)
	}
	sort.SliceStable(ids, func(a, b int) bool { return l[ids[a]] > l[ids[b]] })
	if s.p.TopK > 0 && s.p.TopK < len(ids) {
		ids = ids[:s.p.TopK]
	}
	prob := make([]float64, len(ids))
	top := float64(l[ids[0]]) / float64(s.p.Temperature)
	var sum float64
	for i, id := range ids {
		prob[i] = math.Exp(float64(l[id])/float64(s.p.Temperature) - top)
		sum += prob[i]
	}
	for i := range prob {
		prob[i] /= sum
	}
	keep := len(ids)
	if s.p.TopP > 0 && s.p.TopP < 1 {
		var cum float64
		for i, p := range prob {
			cum += p
			if cum >= float64(s.p.TopP) {
				keep = i + 1
				break
			}
		}
	}
	var kept float64
	for _, p := range prob[:keep] {
		kept += p
	}
	u := float64(s.uniform()) * kept
	var cum float64
	for i, p := range prob[:keep] {
		cum += p
		if u < cum {
			return ids[i]
		}
	}
	return ids[keep-1]
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

// uniform returns the next number in [0, 1) and advances the counter.
func (s *Sampler) uniform() float32 {
	seed := uint32(s.p.Seed) ^ uint32(s.p.Seed>>32)
	h := pcg(pcg(seed) ^ s.step)
	s.step++
	return float32(h>>8) / (1 << 24)
}

// pcg is the PCG-RXS-M-XS 32-bit hash (Jarzynski & Olano, "Hash Functions
// for GPU Rendering", 2020).
func pcg(v uint32) uint32 {
	state := v*747796405 + 2891336453
	word := ((state >> ((state >> 28) + 4)) ^ state) * 277803737
	return (word >> 22) ^ word
}
