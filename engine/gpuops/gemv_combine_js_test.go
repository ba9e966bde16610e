//go:build js && wasm

package gpuops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/require"
)

// A decode GEMV that merges the attention's split partials itself equals
// the attention's combine pass followed by the plain GEMV, with both
// decode kernels (by query head and by KV head), split counts below and
// above a round of four, several head groups and weight types.
func TestGemvCombine(t *testing.T) {
	defer func() { GemvCombineFixed, AttnGroupedFixed = 0, 0 }()
	for _, v := range variants(t) {
		GemvCombineFixed = 1 // lavapipe is a fallback adapter
		c := opsContext(t, v)
		for _, tc := range []struct {
			heads, kvHeads, hd int
			pos, split         int
			typ                dtype.DType
			out                int
		}{
			{4, 1, 64, 100, 32, dtype.Q4_K, 40},  // 4 splits
			{8, 2, 32, 150, 32, dtype.Q8_0, 33},  // 5 splits, 8 heads: one round of runs
			{16, 8, 16, 70, 8, dtype.F16, 17},    // 9 splits, 16 heads: two rounds
			{2, 1, 128, 260, 16, dtype.Q5_0, 24}, // 17 splits
		} {
			for _, grouped := range []int{1, -1} {
				AttnGroupedFixed = grouped
				at, err := NewAttention(testCtx(t), c)
				require.NoError(t, err)
				r := rand.New(rand.NewPCG(uint64(tc.hd), uint64(tc.pos)))
				bufs := newBuffers(t, c)
				cacheLen := tc.pos + 1
				kvElems := cacheLen * tc.kvHeads * tc.hd
				kc, vc := bufs.act(roundAct(v.prec, randFloats(r, kvElems, 1))), bufs.act(roundAct(v.prec, randFloats(r, kvElems, 1)))
				q := bufs.act(roundAct(v.prec, randFloats(r, tc.heads*tc.hd, 1)))
				k := bufs.act(roundAct(v.prec, randFloats(r, tc.kvHeads*tc.hd, 1)))
				vv := bufs.act(roundAct(v.prec, randFloats(r, tc.kvHeads*tc.hd, 1)))
				step := bufs.raw(i32Bytes([]int32{int32(tc.pos), 0}))
				n := tc.heads * tc.hd
				tw := newTestWeight(t, r, tc.typ, n, tc.out)
				w := NewWeight(tc.typ, n, tc.out, bufs.raw(tw.raw))
				mm, err := NewMatMul(testCtx(t), c, tc.typ)
				require.NoError(t, err)
				shape := AttnShape{B: 1, T: 1, Heads: tc.heads, KVHeads: tc.kvHeads, HeadDim: tc.hd, CacheLen: cacheLen,
					PosOff: 0, SlotOff: 1, Scale: float32(1 / math.Sqrt(float64(tc.hd))), SplitLen: tc.split}
				label := name(v, " heads ", tc.heads, "/", tc.kvHeads, " hd ", tc.hd, " ", tc.typ, " grouped ", grouped)

				// The attention and its combine pass, then the GEMV.
				attn := bufs.actOut(n)
				d, err := at.Prepare(q.Binding(), k.Binding(), vv.Binding(), kc.Binding(), vc.Binding(), step.Binding(), attn.Binding(), shape)
				require.NoError(t, err)
				cb, ok := d.Combine()
				require.True(t, ok, label)
				require.Equal(t, (tc.pos+tc.split)/tc.split, cb.Splits, label)
				require.True(t, c.GemvCombineFits(w, cb.Heads, cb.HeadDim, cb.Splits), label)
				want := bufs.actOut(tc.out)
				g, err := mm.Prepare(w, attn.Binding(), want.Binding(), 1)
				require.NoError(t, err)
				run(t, c, d, g)
				d.Release()
				g.Release()

				// The attention without its combine pass, the GEMV merging.
				d, err = at.Prepare(q.Binding(), k.Binding(), vv.Binding(), kc.Binding(), vc.Binding(), step.Binding(), attn.Binding(), shape)
				require.NoError(t, err)
				steps := d.Dispatches()
				cb, _ = d.Combine()
				d.DropCombine()
				require.Equal(t, steps-1, d.Dispatches(), label)
				_, ok = d.Combine()
				require.False(t, ok, "dropped once")
				got := bufs.actOut(tc.out)
				g, err = mm.PrepareCombine(w, cb, got.Binding())
				require.NoError(t, err)
				run(t, c, d, g)
				// Only the softmax sums add in another order.
				requireClose(t, label, readAct(t, c, got, tc.out), readAct(t, c, want, tc.out), tolFor(v.prec, 1e-5))
				d.Release()
				g.Release()
			}
		}
	}
	// What the kernel cannot hold is refused.
	c := opsContext(t, variants(t)[0])
	weight := func(t dtype.DType, in, out int) Weight { return Weight{DType: t, In: in, Out: out} }
	q4 := func(in, out int) Weight { return weight(dtype.Q4_K, in, out) }
	require.False(t, c.GemvCombineFits(q4(1032, 8), 4, 258, 8), "head_dim not quads")
	require.False(t, c.GemvCombineFits(q4(4160, 8), 65, 64, 8), "too many heads")
	require.False(t, c.GemvCombineFits(q4(8192, 8), 32, 256, 8), "too long a row")
	require.False(t, c.GemvCombineFits(q4(256, 8), 4, 64, 1), "nothing to merge")
	require.False(t, c.GemvCombineFits(q4(512, 8), 4, 64, 4), "not the weight's row")
	GemvCombineFixed = 0
	require.Equal(t, !c.Dev.Info.Adapter.IsFallbackAdapter, c.GemvCombineFits(q4(1024, 640), 4, 256, 20), "GPUs only")
	// The o projections measured on the H100 at 21 splits: gemma-3-270m's,
	// gemma-3-1b's and Qwen3-0.6B's gained or broke even, gemma-2-2b's
	// lost; a long cache's many splits make the merge too long.
	require.True(t, gemvCombinePays(q4(1024, 640), 21))
	require.True(t, gemvCombinePays(q4(1024, 1152), 21))
	require.True(t, gemvCombinePays(q4(2048, 1024), 21))
	require.False(t, gemvCombinePays(q4(2048, 2304), 21))
	require.False(t, gemvCombinePays(q4(1024, 640), 128))
	bufs := newBuffers(t, c)
	r := rand.New(rand.NewPCG(3, 3))
	w := NewWeight(dtype.Q8_0, 64, 8, bufs.raw(newTestWeight(t, r, dtype.Q8_0, 64, 8).raw))
	mm, err := NewMatMul(testCtx(t), c, dtype.Q8_0)
	require.NoError(t, err)
	_, err = mm.PrepareCombine(w, GemvCombine{Heads: 2, HeadDim: 16, Splits: 3}, bufs.actOut(8).Binding())
	require.ErrorContains(t, err, "fused combine")
}
