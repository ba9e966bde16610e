//go:build js && wasm

package gpuops

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/stretchr/testify/require"
)

// TestAttention runs prefill chunks and then decode steps for two
// sequences in swapped cache slots, comparing every step's output with
// engine/ref (whose cache is always full length; the GPU's may be a ring).
func TestAttention(t *testing.T) {
	type tc struct {
		label              string
		heads, kvHeads, hd int
		cacheLen, window   int
		softcap            float32
		chunks             []int // prompt chunks (rows per sequence), then decode steps
		decode             int
		splitLen           int
		kernel             AttnKernel
	}
	cases := []tc{
		{"gqa", 4, 2, 64, 40, 0, 0, []int{7}, 3, 0, AttnAuto},
		{"gqa split", 4, 2, 64, 40, 0, 0, []int{7}, 3, 8, AttnAuto},
		{"window softcap", 3, 1, 24, 40, 4, 30, []int{6}, 4, 5, AttnAuto},
		{"ring", 2, 2, 16, 10, 6, 0, []int{5}, 9, 0, AttnAuto}, // positions run past the cache length
		{"head 256 long", 2, 1, 256, 300, 0, 50, []int{270}, 2, 0, AttnRowwise},
		{"many splits", 1, 1, 8, 262, 0, 0, []int{259}, 2, 1, AttnRowwise}, // more splits than the combine stages
		// The tiled prompt kernel (blocks of 128, 64, 32 queries for
		// head_dim 64, 128, 256): blocks cut mid-row (3 heads per KV head)
		// and partial last blocks, a second chunk over cached positions,
		// split keys.
		{"tiled hd64", 6, 2, 64, 200, 0, 0, []int{50, 20}, 2, 0, AttnAuto},
		{"tiled hd128 ring window softcap", 4, 1, 128, 31, 12, 30, []int{20, 17}, 3, 0, AttnAuto},
		{"tiled hd256", 2, 1, 256, 64, 0, 0, []int{18, 25}, 1, 0, AttnAuto},
		{"tiled hd64 window long", 2, 2, 64, 300, 40, 0, []int{150, 130}, 1, 0, AttnAuto},
		{"tiled hd96 split", 3, 1, 96, 48, 0, 0, []int{9, 16}, 1, 5, AttnTiled}, // a team of 3: 126 invocations
	}
	type setup struct {
		v    variant
		wide int // attnWideFixed
	}
	var runs []setup
	for i, v := range variants(t) {
		runs = append(runs, setup{v, 0})
		if i == 0 {
			// The GPUs' wide loads (lavapipe and SwiftShader get the plain
			// loops): the decode cases whose heads are long enough to use them.
			runs = append(runs, setup{v, 1})
		}
	}
	for _, rn := range runs {
		v := rn.v
		c := opsContext(t, v)
		attnWideFixed = rn.wide
		at, err := NewAttention(testCtx(t), c)
		attnWideFixed = 0
		require.NoError(t, err)
		for _, tc := range cases {
			if rn.wide != 0 && (tc.decode == 0 || tc.hd < 128 || strings.HasPrefix(tc.label, "tiled hd64")) {
				continue
			}
			if tc.hd == 256 && v.subgroups {
				continue // the long case once per precision is enough on lavapipe
			}
			if tc.splitLen == 1 && v != variants(t)[0] {
				continue // 68k workgroups per prefill: once is enough on lavapipe
			}
			if strings.HasPrefix(tc.label, "tiled") && (v.subgroups || tc.hd == 96 && v != variants(t)[0]) {
				// attention_prefill.wgsl has no subgroup path (same source),
				// and each head_dim is a pipeline to compile (seconds on lavapipe).
				continue
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
			for stepNo, T := range append(append([]int{}, tc.chunks...), repeat(1, tc.decode)...) {
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
						Kernel: tc.kernel,
					})
				require.NoError(t, err)
				run(t, c, d)
				requireClose(t, name(v, " attention ", tc.label, " wide ", rn.wide, " step ", stepNo, " (T=", T, ", ", d.Dispatches(), " launches)"),
					readAct(t, c, out, len(want)), want, tolFor(v.prec, 1e-4))
				d.Release()
				pos += T
			}
		}
	}
}

// TestPrefillTiling checks the tiled kernel's geometry: workgroup memory
// within WebGPU's guaranteed 16 KiB, whole teams, every head_dim up to 256.
func TestPrefillTiling(t *testing.T) {
	inv, vpm, qpi := prefillInvocations, prefillMaxVPM, prefillQPI
	for _, sh := range prefillSweep {
		prefillInvocations, prefillMaxVPM, prefillQPI = sh.inv, sh.vpm, sh.qpi
		for hd := 4; hd <= 256; hd += 4 {
			tl := newPrefillTiling(hd)
			require.LessOrEqual(t, tl.sharedBytes(), 16<<10, "head_dim %d: %+v", hd, tl)
			require.Equal(t, tl.HD4, tl.TQ*tl.VPM, "head_dim %d", hd)
			require.Equal(t, tl.WG*tl.QPI, tl.BR*tl.TQ, "head_dim %d", hd)
			require.LessOrEqual(t, tl.VPM, prefillMaxVPM, "head_dim %d", hd)
			require.Positive(t, tl.BC, "head_dim %d", hd)
		}
	}
	prefillInvocations, prefillMaxVPM, prefillQPI = inv, vpm, qpi
	// The defaults (128 invocations, 8 vec4s, 1 query each).
	for _, want := range []prefillTiling{
		{HD4: 16, TQ: 2, VPM: 8, QPI: 1, BR: 64, WG: 128, BC: 21},
		{HD4: 32, TQ: 4, VPM: 8, QPI: 1, BR: 32, WG: 128, BC: 15},
		{HD4: 64, TQ: 8, VPM: 8, QPI: 1, BR: 16, WG: 128, BC: 10},
	} {
		require.Equal(t, want, newPrefillTiling(4*want.HD4))
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}
