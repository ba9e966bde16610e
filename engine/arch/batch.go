package arch

import "github.com/doppler-engine/doppler/engine/model"

// Batch is one forward step over B independent sequences with T new tokens
// each: B*T rows, row b*T+t being token t of sequence b. Prefill has T > 1,
// decode T = 1; B > 1 runs several sequences (e.g. chunk summaries) at once.
// All fields are backend tensors so a recorded plan can be replayed with new
// values without rebuilding it.
type Batch struct {
	B, T   int
	Tokens Tensor // int32 [B*T] token ids
	Pos    Tensor // int32 [B*T] position of each row within its sequence
	Slots  Tensor // int32 [B] cache slot of each sequence
	// Out selects the rows whose logits are wanted (int32 [N]); nil = all rows.
	Out Tensor
}

// Rows is the number of token rows in the step.
func (b *Batch) Rows() int { return b.B * b.T }

// Cache holds every layer's KV cache.
type Cache struct {
	Layers []KV
}

// NewCache makes a cache for cfg with room for slots sequences of length
// positions each.
func NewCache(be Backend, cfg *model.Config, slots, length int) *Cache {
	c := &Cache{Layers: make([]KV, cfg.Layers)}
	for i := range c.Layers {
		c.Layers[i] = be.NewKV(slots, length, cfg.KVHeads, cfg.HeadDim)
	}
	return c
}
