package arch

import (
	"fmt"
	"slices"
)

// Runner feeds tokens to a model on a backend and keeps each cache slot's
// length, so callers think in tokens, not positions.
type Runner struct {
	model Model
	be    Backend
	cache *Cache
	next  []int // next position of each slot
}

// NewRunner makes a runner with slots independent sequences of up to length
// positions each.
func NewRunner(m Model, be Backend, slots, length int) *Runner {
	return &Runner{model: m, be: be, cache: NewCache(be, m.Config(), slots, length), next: make([]int, slots)}
}

// Len is the number of tokens slot holds.
func (r *Runner) Len(slot int) int { return r.next[slot] }

// Reset empties a slot (its old cache entries are overwritten as it refills).
func (r *Runner) Reset(slot int) { r.next[slot] = 0 }

// Feed appends tokens[i] to slots[i] (all the same length T, at least 1) in one
// step and returns logits: every row (sequence-major, B*T rows) when all is
// set, else the last row of each sequence.
func (r *Runner) Feed(slots []int, tokens [][]int32, all bool) (logits [][]float32, err error) {
	if len(slots) == 0 || len(slots) != len(tokens) {
		return nil, fmt.Errorf("feed: %d slots for %d sequences", len(slots), len(tokens))
	}
	B, T := len(slots), len(tokens[0])
	if T == 0 {
		return nil, fmt.Errorf("feed: no tokens")
	}
	length := r.cache.Layers[0].Len()
	ids := make([]int32, 0, B*T)
	pos := make([]int32, 0, B*T)
	slot32 := make([]int32, B)
	for b, s := range slots {
		if s < 0 || s >= len(r.next) {
			return nil, fmt.Errorf("feed: slot %d of %d", s, len(r.next))
		}
		if len(tokens[b]) != T {
			return nil, fmt.Errorf("feed: sequences of %d and %d tokens in one step", T, len(tokens[b]))
		}
		if r.next[s]+T > length {
			return nil, fmt.Errorf("context overflow: %d tokens do not fit in a context of %d", r.next[s]+T, length)
		}
		if slices.Contains(slots[:b], s) {
			return nil, fmt.Errorf("feed: slot %d twice in one step", s)
		}
		vocab := r.model.Config().VocabSize
		for t, id := range tokens[b] {
			if id < 0 || int(id) >= vocab {
				return nil, fmt.Errorf("token id %d is outside the vocabulary (0..%d)", id, vocab-1)
			}
			ids = append(ids, id)
			pos = append(pos, int32(r.next[s]+t))
		}
		slot32[b] = int32(s)
	}
	batch := &Batch{B: B, T: T, Tokens: r.be.Ints(ids, B*T), Pos: r.be.Ints(pos, B*T), Slots: r.be.Ints(slot32, B)}
	if !all {
		out := make([]int32, B)
		for b := range out {
			out[b] = int32(b*T + T - 1)
		}
		batch.Out = r.be.Ints(out, B)
	}
	defer func() {
		if p := recover(); p != nil {
			logits, err = nil, fmt.Errorf("forward pass failed: %v", p)
		}
	}()
	out := r.model.Forward(r.be, batch, r.cache)
	flat, err := r.be.Read(out)
	if err != nil {
		return nil, err
	}
	for _, s := range slots {
		r.next[s] += T
	}
	shape := out.Shape()
	vocab := shape[len(shape)-1]
	for i := 0; i+vocab <= len(flat); i += vocab {
		logits = append(logits, flat[i:i+vocab:i+vocab])
	}
	return logits, nil
}
