//go:build js && wasm

package gpuops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/stretchr/testify/require"
)

// TestAttention runs a prefill chunk and then decode steps for two
// sequences in swapped cache slots, comparing every step's output with
// engine/ref (whose cache is always full length; the GPU's may be a ring).
func TestAttention(t *testing.T) {
	type tc struct {
		label              string
		heads, kvHeads, hd int
		cacheLen, window   int
		softcap            float32
		prefill, decode    int
		splitLen           int
	}
	cases := []tc{
		{"gqa", 4, 2, 64, 40, 0, 0, 7, 3, 0},
		{"gqa split", 4, 2, 64, 40, 0, 0, 7, 3, 8},
		{"window softcap", 3, 1, 24, 40, 4, 30, 6, 4, 5},
		{"ring", 2, 2, 16, 10, 6, 0, 5, 9, 0}, // positions run past the cache length
		{"head 256 long", 2, 1, 256, 300, 0, 50, 270, 2, 0},
		{"many splits", 1, 1, 8, 262, 0, 0, 259, 2, 1}, // more splits than the combine stages
	}
	for _, v := range variants(t) {
		c := opsContext(t, v)
		at, err := NewAttention(testCtx(t), c)
		require.NoError(t, err)
		for _, tc := range cases {
			if tc.hd == 256 && v.subgroups {
				continue // the long case once per precision is enough on lavapipe
			}
			if tc.splitLen == 1 && v != variants(t)[0] {
				continue // 68k workgroups per prefill: once is enough on lavapipe
			}
			r := rand.New(rand.NewPCG(23, uint64(tc.hd)))
			const B = 2
			slots := []int32{1, 0}
			refLen := 512
			cache := cpu.NewKV(B, refLen, tc.kvHeads, tc.hd)
			bufs := newBuffers(t, c)
			cacheElems := B * tc.cacheLen * tc.kvHeads * tc.hd
			kc, vc := bufs.actOut(cacheElems), bufs.actOut(cacheElems)
			p := arch.AttnParams{Scale: float32(1 / math.Sqrt(float64(tc.hd))), Softcap: tc.softcap, Window: tc.window}
			pos := 0
			for stepNo, T := range append([]int{tc.prefill}, repeat(1, tc.decode)...) {
				rows := B * T
				posv := make([]int32, rows)
				for b := 0; b < B; b++ {
					for i := 0; i < T; i++ {
						posv[b*T+i] = int32(pos + i)
					}
				}
				q := roundAct(v.prec, randFloats(r, rows*tc.heads*tc.hd, 1))
				k := roundAct(v.prec, randFloats(r, rows*tc.kvHeads*tc.hd, 1))
				vv := roundAct(v.prec, randFloats(r, rows*tc.kvHeads*tc.hd, 1))
				batch := &arch.Batch{B: B, T: T, Pos: cpu.Ints(posv, rows), Slots: cpu.Ints(slots, B)}
				want := floats(cpu.Attention(cpu.Floats(q, rows, tc.heads, tc.hd), cpu.Floats(k, rows, tc.kvHeads, tc.hd),
					cpu.Floats(vv, rows, tc.kvHeads, tc.hd), cache, batch, p))
				// Step buffer: 5 unrelated ints, positions, then slots.
				step := append(append([]int32{7, 7, 7, 7, 7}, posv...), slots...)
				out := bufs.actOut(rows * tc.heads * tc.hd)
				d, err := at.Prepare(bufs.act(q).Binding(), bufs.act(k).Binding(), bufs.act(vv).Binding(), kc.Binding(), vc.Binding(),
					bufs.raw(i32Bytes(step)).Binding(), out.Binding(), AttnShape{
						B: B, T: T, Heads: tc.heads, KVHeads: tc.kvHeads, HeadDim: tc.hd, CacheLen: tc.cacheLen,
						PosOff: 5, SlotOff: 5 + rows, Scale: p.Scale, Softcap: p.Softcap, Window: p.Window, SplitLen: tc.splitLen,
					})
				require.NoError(t, err)
				run(t, c, d)
				requireClose(t, name(v, " attention ", tc.label, " step ", stepNo, " (T=", T, ", ", d.Dispatches(), " launches)"),
					readAct(t, c, out, len(want)), want, tolFor(v.prec, 1e-4))
				d.Release()
				pos += T
			}
		}
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}
