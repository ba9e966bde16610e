package ref

import "github.com/doppler-engine/doppler/engine/arch"

// kv is one layer's float32 cache: for each slot, position and KV head, a
// head-dim vector. Index ((slot*length+pos)*heads+head)*dim.
type kv struct {
	slots, length, heads, dim int
	k, v                      []float32
}

func (*Backend) NewKV(slots, length, kvHeads, headDim int) arch.KV {
	n := slots * length * kvHeads * headDim
	return &kv{slots: slots, length: length, heads: kvHeads, dim: headDim, k: make([]float32, n), v: make([]float32, n)}
}

func (c *kv) Slots() int { return c.slots }
func (c *kv) Len() int   { return c.length }

func (c *kv) at(slot, pos, head int) int { return ((slot*c.length+pos)*c.heads + head) * c.dim }
