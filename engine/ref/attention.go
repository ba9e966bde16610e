package ref

import (
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/arch"
)

// Attention writes every row's k and v into the cache first, then lets each
// query row attend to the cached positions of its own sequence that it may
// see: key position kp with kp ≤ pos and, for a window w, pos-kp < w.
func (be *Backend) Attention(q, k, v arch.Tensor, cache arch.KV, b *arch.Batch, p arch.AttnParams) arch.Tensor {
	qt, kt, vt := f32(q), f32(k), f32(v)
	c, ok := cache.(*kv)
	if !ok {
		panic(fmt.Sprintf("ref: cache %T is not a CPU cache", cache))
	}
	pos, slots := i32(b.Pos), i32(b.Slots)
	rows, heads, hd := qt.shape[0], qt.shape[1], qt.shape[2]
	kvHeads := kt.shape[1]
	if rows != b.Rows() || len(pos) != rows || len(slots) != b.B || kvHeads != c.heads || hd != c.dim || heads%kvHeads != 0 {
		panic(fmt.Sprintf("ref: attention q %v k %v for %d×%d rows, cache %d×%d", qt.shape, kt.shape, b.B, b.T, c.heads, c.dim))
	}
	slotOf := func(r int) int { return int(slots[r/b.T]) }
	for r := 0; r < rows; r++ {
		s, ps := slotOf(r), int(pos[r])
		if s < 0 || s >= c.slots || ps < 0 || ps >= c.length {
			panic(fmt.Sprintf("ref: position %d of slot %d outside a cache of %d×%d", ps, s, c.slots, c.length))
		}
		for h := 0; h < kvHeads; h++ {
			ck, cv := c.k[c.at(s, ps, h):c.at(s, ps, h)+hd], c.v[c.at(s, ps, h):c.at(s, ps, h)+hd]
			copy(ck, kt.f[(r*kvHeads+h)*hd:])
			copy(cv, vt.f[(r*kvHeads+h)*hd:])
			if be.flashF16 {
				roundF16(ck)
				roundF16(cv)
			}
		}
	}
	group := heads / kvHeads
	out := &Tensor{shape: []int{rows, heads * hd}, f: make([]float32, rows*heads*hd)}
	parallel(rows*heads, hd*int(pos[rows-1]+1), func(lo, hi int) {
		scratch := make([]float64, max(c.length, hd))
		acc := make([]float64, hd)
		for rh := lo; rh < hi; rh++ {
			r, h := rh/heads, rh%heads
			s, ps := slotOf(r), int(pos[r])
			first := 0
			if p.Window > 0 {
				first = max(0, ps-p.Window+1)
			}
			qv := qt.f[(r*heads+h)*hd : (r*heads+h+1)*hd]
			o := out.f[(r*heads+h)*hd : (r*heads+h+1)*hd]
			if be.flashF16 {
				attendFlashF16(o, qv, c, s, h/group, first, ps, p)
			} else {
				attend(o, qv, c, s, h/group, first, ps, p, scratch, acc)
			}
		}
	})
	return out
}

// attend is softmax(q·k*scale, softcapped) weighted sum of v over the cached
// positions first..last, in float64 sums.
func attend(o, qv []float32, c *kv, slot, kvh, first, last int, p arch.AttnParams, scores, acc []float64) {
	maxS := math.Inf(-1)
	for kp := first; kp <= last; kp++ {
		sc := dot(qv, c.k[c.at(slot, kp, kvh):]) * p.Scale
		if p.Softcap > 0 {
			sc = softcap(sc, p.Softcap)
		}
		scores[kp] = float64(sc)
		maxS = math.Max(maxS, scores[kp])
	}
	var sum float64
	clear(acc)
	for kp := first; kp <= last; kp++ {
		w := math.Exp(scores[kp] - maxS)
		sum += w
		vv := c.v[c.at(slot, kp, kvh):]
		for d := range acc {
			acc[d] += w * float64(vv[d])
		}
	}
	for d := range acc {
		o[d] = float32(acc[d] / sum)
	}
}
