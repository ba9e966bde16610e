//go:build js && wasm

package gpuops

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/stretchr/testify/require"
)

// attnRopeCase is the q/k norm and rotation a decode step's attention
// applies itself (AttnShape.Rope); prompt chunks get q and k as rope_qk
// leaves them.
type attnRopeCase struct {
	style   model.RopeStyle
	dim     int // rotated dims (0: all)
	theta   float64
	factors bool
	norm    bool
}

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
		rope               *attnRopeCase
	}
	cases := []tc{
		{"gqa", 4, 2, 64, 40, 0, 0, []int{7}, 3, 0, AttnAuto, nil},
		{"gqa split", 4, 2, 64, 40, 0, 0, []int{7}, 3, 8, AttnAuto, nil},
		{"window softcap", 3, 1, 24, 40, 4, 30, []int{6}, 4, 5, AttnAuto, nil},
		{"ring", 2, 2, 16, 10, 6, 0, []int{5}, 9, 0, AttnAuto, nil}, // positions run past the cache length
		{"head 256 long", 2, 1, 256, 300, 0, 50, []int{270}, 2, 0, AttnRowwise, nil},
		{"many splits", 1, 1, 8, 262, 0, 0, []int{259}, 2, 1, AttnRowwise, nil}, // more splits than the combine stages
		// Decode by KV head (attention_decode.wgsl): 8 and 6 query heads
		// per KV head (the second row-group sum), splits of several tiles,
		// a window.
		{"group 8 tiles", 8, 1, 64, 120, 0, 0, []int{90}, 2, 70, AttnAuto, nil},
		{"group 6 window", 6, 1, 32, 60, 20, 0, []int{9}, 4, 0, AttnAuto, nil},
		// The prompt kernels (tiled: blocks of 128, 64, 32 queries for
		// head_dim 64, 128, 256; blocked: 32 queries × 32 keys in 16 KiB of
		// workgroup memory): blocks cut mid-row (3 heads per KV head)
		// and partial last blocks, a second chunk over cached positions,
		// split keys.
		{"tiled hd64", 6, 2, 64, 200, 0, 0, []int{50, 20}, 2, 0, AttnAuto, nil},
		{"tiled hd128 ring window softcap", 4, 1, 128, 31, 12, 30, []int{20, 17}, 3, 0, AttnAuto, nil},
		{"tiled hd256", 2, 1, 256, 64, 0, 0, []int{18, 25}, 1, 0, AttnAuto, nil},
		{"tiled hd64 window long", 2, 2, 64, 300, 40, 0, []int{150, 130}, 1, 0, AttnAuto, nil},
		{"tiled hd96 split", 3, 1, 96, 48, 0, 0, []int{9, 16}, 1, 5, AttnTiled, nil}, // a team of 3: 126 invocations
		// Short chunks in a long cache: most splits hold none of a block's
		// keys and write nothing; the combine reads the live ones.
		{"tiled hd64 short chunks long cache", 4, 2, 64, 500, 0, 0, []int{40, 30}, 1, 0, AttnAuto, nil},
		// The blocked kernel (AttnAuto's where it fits, as above) with 3
		// output quads per invocation; the tiled kernel where the blocked
		// one would serve.
		{"tiled hd96 split block", 3, 1, 96, 48, 0, 0, []int{9, 16}, 1, 5, AttnBlock, nil},
		// Its splits merged by the general combine pass, which prompt
		// chunks keep for more than combineRowsMax splits.
		{"tiled hd96 split block general combine", 3, 1, 96, 48, 0, 0, []int{9, 16}, 1, 5, AttnBlock, nil},
		{"tiled hd128 ring window softcap tiled", 4, 1, 128, 31, 12, 30, []int{20, 17}, 3, 0, AttnTiled, nil},
		// Decode norming and rotating q and k itself (Gemma 3, Qwen3:
		// q/k norms; Llama: rotation only, rope factors, partial rotary).
		{"rope neox norm hd256", 4, 1, 256, 40, 0, 50, []int{5}, 3, 0, AttnAuto, &attnRopeCase{model.RopeNeoX, 0, 1e6, false, true}},
		{"rope neox norm hd128 split", 4, 2, 128, 40, 0, 0, []int{7}, 3, 4, AttnAuto, &attnRopeCase{model.RopeNeoX, 0, 1e6, false, true}},
		{"rope normal norm hd64 window", 6, 2, 64, 40, 8, 0, []int{9}, 3, 3, AttnAuto, &attnRopeCase{model.RopeNormal, 0, 1e4, false, true}},
		{"rope neox norm own key in a later tile", 4, 1, 64, 80, 0, 0, []int{45}, 3, 64, AttnAuto, &attnRopeCase{model.RopeNeoX, 0, 1e4, false, true}},
		{"rope normal partial factors", 4, 1, 64, 24, 0, 0, []int{6}, 3, 5, AttnAuto, &attnRopeCase{model.RopeNormal, 32, 5e5, true, false}},
		{"rope neox partial norm ring", 3, 1, 64, 10, 6, 0, []int{5}, 7, 0, AttnAuto, &attnRopeCase{model.RopeNeoX, 40, 1e4, true, true}},
	}
	type setup struct {
		v       variant
		wide    int // attnWideFixed
		grouped int // AttnGroupedFixed
	}
	var runs []setup
	for i, v := range variants(t) {
		runs = append(runs, setup{v, 0, 1})
		if i == 0 {
			// The GPUs' wide loads (lavapipe and SwiftShader get the plain
			// loops): the decode cases whose heads are long enough to use
			// them, in attention.wgsl (not the grouped decode kernel).
			runs = append(runs, setup{v, 1, -1})
		}
		// Decode by query head (attention.wgsl) where the grouped kernel
		// would serve: its own q/k norm + rope in every precision, the
		// other decode cases once.
		runs = append(runs, setup{v, 0, -1})
	}
	defer func() { AttnGroupedFixed, CombineRowsOff = 0, false }()
	for _, rn := range runs {
		v := rn.v
		c := opsContext(t, v)
		attnWideFixed, AttnGroupedFixed = rn.wide, rn.grouped
		at, err := NewAttention(testCtx(t), c)
		attnWideFixed = 0
		require.NoError(t, err)
		rp, err := NewRope(testCtx(t), c)
		require.NoError(t, err)
		for _, tc := range cases {
			if rn.wide != 0 && (tc.decode == 0 || tc.hd < 128 || strings.HasPrefix(tc.label, "tiled hd64")) {
				continue
			}
			if tc.rope != nil && rn.wide != 0 && tc.hd < 256 {
				continue // the wide loads once, with the longest head
			}
			if rn.grouped < 0 && rn.wide == 0 && (tc.decode == 0 || tc.rope == nil && v != variants(t)[0]) {
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
			CombineRowsOff = strings.HasSuffix(tc.label, "general combine")
			r := rand.New(rand.NewPCG(23, uint64(tc.hd)))
			const B = 2
			slots := []int32{1, 0}
			refLen := 512
			cache := cpu.NewKV(B, refLen, tc.kvHeads, tc.hd)
			bufs := newBuffers(t, c)
			cacheElems := B * tc.cacheLen * tc.kvHeads * tc.hd
			kc, vc := bufs.actOut(cacheElems), bufs.actOut(cacheElems)
			// With rope, decode steps also run today's two launches (rope_qk,
			// then attention) over a second cache: the fused kernel must
			// match them to the rounding (the CPU reference is f16's
			// tolerance away).
			kc2, vc2 := bufs.actOut(cacheElems), bufs.actOut(cacheElems)
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
				var rope *AttnRope
				qr, kr := q, k // what attention sees: rotated by rope_qk, or by itself
				if tc.rope != nil {
					var rp arch.RopeParams
					var qn, kn []float32
					rope, rp, qn, kn = attnRope(bufs, tc.rope, tc.hd)
					qr = ropeRef(v.prec, q, posv, tc.heads, tc.hd, qn, 1e-6, rp)
					kr = ropeRef(v.prec, k, posv, tc.kvHeads, tc.hd, kn, 1e-6, rp)
					if T > 1 {
						q, k, rope = qr, kr, nil
					}
				}
				want := floats(cpu.Attention(cpu.Floats(qr, rows, tc.heads, tc.hd), cpu.Floats(kr, rows, tc.kvHeads, tc.hd),
					cpu.Floats(vv, rows, tc.kvHeads, tc.hd), cache, batch, p))
				// Step buffer: 5 unrelated ints, positions, then slots.
				step := append(append([]int32{7, 7, 7, 7, 7}, posv...), slots...)
				out := bufs.actOut(rows * tc.heads * tc.hd)
				stepBuf := bufs.raw(i32Bytes(step))
				shape := AttnShape{
					B: B, T: T, Heads: tc.heads, KVHeads: tc.kvHeads, HeadDim: tc.hd, CacheLen: tc.cacheLen,
					PosOff: 5, SlotOff: 5 + rows, Scale: p.Scale, Softcap: p.Softcap, Window: p.Window, SplitLen: tc.splitLen,
					Kernel: tc.kernel, Rope: rope,
				}
				d, err := at.Prepare(bufs.act(q).Binding(), bufs.act(k).Binding(), bufs.act(vv).Binding(), kc.Binding(), vc.Binding(),
					stepBuf.Binding(), out.Binding(), shape)
				require.NoError(t, err)
				if at.part != nil {
					// Records no split writes must not be read: fill them
					// with maxima that would outweigh every real one.
					require.NoError(t, c.Dev.WriteBuffer(at.part, 0, bytes.Repeat([]byte{0xff, 0xff, 0x7f, 0x7f}, int(at.part.Size/4))))
				}
				run(t, c, d)
				label := name(v, " attention ", tc.label, " wide ", rn.wide, " grouped ", rn.grouped, " step ", stepNo, " (T=", T, ", ", d.Dispatches(), " launches)")
				got := readAct(t, c, out, len(want))
				requireClose(t, label, got, want, tolFor(v.prec, 1e-4))
				d.Release()
				if tc.rope != nil {
					q2, k2, out2 := bufs.act(q), bufs.act(k), bufs.actOut(len(want))
					shape.Rope = nil
					var ds []*Dispatch
					if rope != nil {
						d, err := rp.PrepareQK(testCtx(t), q2.Binding(), k2.Binding(), stepBuf.Binding(), 5, rows, tc.heads, tc.kvHeads, tc.hd, rope.Cfg, rope.Norm)
						require.NoError(t, err)
						ds = append(ds, d)
					}
					d, err := at.Prepare(q2.Binding(), k2.Binding(), bufs.act(vv).Binding(), kc2.Binding(), vc2.Binding(),
						stepBuf.Binding(), out2.Binding(), shape)
					require.NoError(t, err)
					run(t, c, append(ds, d)...)
					// The same roundings give the same values: bit for bit
					// in attention.wgsl without the norm (whose sum may run
					// in another order; f16's roundings are stores that
					// lavapipe cannot skip, see attention_qk_rope.wgsl) on
					// software adapters. A GPU's compiler may fuse a
					// multiply and an add in one kernel and not in the
					// other (an NVIDIA H200: 1.2e-7 apart).
					tol := tolFor(v.prec, 1e-5)
					if !tc.rope.norm && rn.grouped < 0 {
						tol = 0
						if !c.Dev.Info.Adapter.IsFallbackAdapter {
							tol = 1e-6
						}
					}
					requireClose(t, label+" vs rope_qk+attention", got, readAct(t, c, out2, len(want)), tol)
					for _, d := range append(ds, d) {
						d.Release()
					}
				}
				pos += T
			}
		}
	}
}

// attnRope makes a case's rope settings: fixed random norm weights per
// head_dim (returned for the reference), factors 1..5.
func attnRope(bufs *buffers, rc *attnRopeCase, hd int) (a *AttnRope, rp arch.RopeParams, qn, kn []float32) {
	dim := rc.dim
	if dim == 0 {
		dim = hd
	}
	a = &AttnRope{Cfg: RopeConfig{Neox: rc.style == model.RopeNeoX, Dim: rc.dim, Theta: rc.theta}}
	rp = arch.RopeParams{Style: rc.style, Dim: rc.dim, Theta: rc.theta}
	if rc.factors {
		a.Cfg.Factors = make([]float32, dim/2)
		for i := range a.Cfg.Factors {
			a.Cfg.Factors[i] = 1 + float32(i%5)
		}
		rp.Factors = cpu.Floats(a.Cfg.Factors, dim/2)
	}
	if rc.norm {
		wr := rand.New(rand.NewPCG(31, uint64(hd)))
		qn, kn = randFloats(wr, hd, 2), randFloats(wr, hd, 2)
		a.Norm = &QKNorm{Q: bufs.raw(f32Bytes(qn)).Binding(), K: bufs.raw(f32Bytes(kn)).Binding(), Eps: 1e-6}
	}
	return a, rp, qn, kn
}

// ropeRef is what rope_qk leaves of x [rows, heads, hd] at positions pos:
// normed by w (nil: not) and rounded to the activation type, rotated,
// rounded.
func ropeRef(prec Precision, x []float32, pos []int32, heads, hd int, w []float32, eps float32, rp arch.RopeParams) []float32 {
	rows := len(pos)
	t := cpu.Floats(x, rows, heads, hd)
	if w != nil {
		t = cpu.Floats(roundAct(prec, floats(cpu.RMSNorm(t, cpu.Floats(w, hd), eps))), rows, heads, hd)
	}
	return roundAct(prec, floats(cpu.Rope(t, cpu.Ints(pos, rows), rp)))
}

// TestPrefillTiling checks the tiled kernel's geometry: workgroup memory
// within its budget (itself within WebGPU's guaranteed 16 KiB), whole
// teams, every head_dim up to 256.
func TestPrefillTiling(t *testing.T) {
	require.LessOrEqual(t, prefillShared, 16<<10, "WebGPU's guaranteed workgroup memory")
	inv, vpm, qpi := prefillInvocations, prefillMaxVPM, prefillQPI
	for _, sh := range prefillSweep {
		prefillInvocations, prefillMaxVPM, prefillQPI = sh.inv, sh.vpm, sh.qpi
		for hd := 4; hd <= 256; hd += 4 {
			tl := newPrefillTiling(hd)
			require.LessOrEqual(t, tl.sharedBytes(), prefillShared, "head_dim %d: %+v", hd, tl)
			require.Equal(t, tl.HD4, tl.TQ*tl.VPM, "head_dim %d", hd)
			require.Equal(t, tl.WG*tl.QPI, tl.BR*tl.TQ, "head_dim %d", hd)
			require.LessOrEqual(t, tl.VPM, prefillMaxVPM, "head_dim %d", hd)
			require.Positive(t, tl.BC, "head_dim %d", hd)
		}
	}
	prefillInvocations, prefillMaxVPM, prefillQPI = inv, vpm, qpi
	// The defaults (128 invocations, 8 vec4s, 1 query each).
	for _, want := range []prefillTiling{
		{HD4: 16, TQ: 2, VPM: 8, QPI: 1, BR: 64, WG: 128, BC: 15},
		{HD4: 32, TQ: 4, VPM: 8, QPI: 1, BR: 32, WG: 128, BC: 11},
		{HD4: 64, TQ: 8, VPM: 8, QPI: 1, BR: 16, WG: 128, BC: 7},
	} {
		require.Equal(t, want, newPrefillTiling(4*want.HD4))
	}
}

// TestBlockTiling checks the blocked kernel's choice per workgroup memory
// (48 KiB: the H100's; 32 KiB; WebGPU's guaranteed 16 KiB) and head_dim:
// the shape fits, V steps divide the tile and fit the staging area, and
// head_dims the tile's columns cannot split evenly are left to the tiled
// kernel.
func TestBlockTiling(t *testing.T) {
	for _, tc := range []struct {
		hd     int
		shared uint64
		want   blockTiling
		ok     bool
	}{
		{128, 48 << 10, blockTiling{HD4: 32, BR: 64, BC: 64, DK: 32, VK: 32, WG: 256}, true},
		{256, 48 << 10, blockTiling{HD4: 64, BR: 64, BC: 64, DK: 32, VK: 16, WG: 256}, true},
		{64, 48 << 10, blockTiling{HD4: 16, BR: 64, BC: 64, DK: 32, VK: 64, WG: 256}, true},
		{128, 32 << 10, blockTiling{HD4: 32, BR: 64, BC: 64, DK: 16, VK: 16, WG: 256}, true},
		{256, 16 << 10, blockTiling{HD4: 64, BR: 32, BC: 32, DK: 16, VK: 4, WG: 64}, true},
		{96, 48 << 10, blockTiling{HD4: 24, BR: 32, BC: 32, DK: 16, VK: 8, WG: 64}, true}, // only 32 splits 96 evenly
		{80, 48 << 10, blockTiling{}, false},
		{8, 48 << 10, blockTiling{}, false},
		{256, 8 << 10, blockTiling{}, false},
	} {
		got, ok := newBlockTiling(tc.hd, tc.shared)
		require.Equal(t, tc.ok, ok, "head_dim %d in %d bytes", tc.hd, tc.shared)
		require.Equal(t, tc.want, got, "head_dim %d in %d bytes", tc.hd, tc.shared)
		if !ok {
			continue
		}
		require.LessOrEqual(t, uint64(got.sharedBytes()), tc.shared)
		require.Zero(t, got.BC%got.VK)
		require.LessOrEqual(t, got.VK*4*got.HD4, got.DK*(got.BR+got.BC), "V step within the staging area")
		require.Zero(t, got.HD4%(got.BC/4), "whole output quads per invocation")
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// The fused q/k norm + rope is decode's alone, and only where the device
// binds its storage buffers (attnRopeFixed stands in for a device below
// the limit): elsewhere Prepare refuses it rather than skip the rotation.
func TestAttentionRopeRefused(t *testing.T) {
	c := opsContext(t, variants(t)[0])
	at, err := NewAttention(testCtx(t), c)
	require.NoError(t, err)
	bufs := newBuffers(t, c)
	const hd, cacheLen = 16, 8
	buf := func(n int) gpu.Binding { return bufs.actOut(n).Binding() }
	step := bufs.raw(i32Bytes([]int32{0, 1, 0})).Binding()
	rope := &AttnRope{Cfg: RopeConfig{Theta: 1e4}}
	for _, tc := range []struct {
		label string
		T     int
		fixed int
		ok    bool
	}{
		{"decode", 1, 0, true},
		{"prompt chunk", 2, 0, false},
		{"decode below the limit", 1, -1, false},
	} {
		attnRopeFixed = tc.fixed
		s := AttnShape{B: 1, T: tc.T, Heads: 2, KVHeads: 1, HeadDim: hd, CacheLen: cacheLen, PosOff: 0, SlotOff: tc.T, Scale: 0.25, Rope: rope}
		d, err := at.Prepare(buf(tc.T*2*hd), buf(tc.T*hd), buf(tc.T*hd), buf(cacheLen*hd), buf(cacheLen*hd), step, buf(tc.T*2*hd), s)
		attnRopeFixed = 0
		if tc.ok {
			require.NoError(t, err, tc.label)
			d.Release()
		} else {
			require.ErrorContains(t, err, "attention with its own rope needs decode", tc.label)
		}
	}
}

// A prompt chunk asking for the blocked kernel where its head_dim cannot
// split over the tile's columns (16 here) gets an error, not another
// kernel; the tiled kernel serves it.
func TestAttentionBlockRefused(t *testing.T) {
	c := opsContext(t, variants(t)[0])
	at, err := NewAttention(testCtx(t), c)
	require.NoError(t, err)
	bufs := newBuffers(t, c)
	const hd, cacheLen, T = 16, 8, 2
	buf := func(n int) gpu.Binding { return bufs.actOut(n).Binding() }
	step := bufs.raw(i32Bytes([]int32{0, 1, 0})).Binding()
	for _, kern := range []AttnKernel{AttnBlock, AttnTiled} {
		s := AttnShape{B: 1, T: T, Heads: 2, KVHeads: 1, HeadDim: hd, CacheLen: cacheLen, SlotOff: T, Scale: 0.25, Kernel: kern}
		d, err := at.Prepare(buf(T*2*hd), buf(T*hd), buf(T*hd), buf(cacheLen*hd), buf(cacheLen*hd), step, buf(T*2*hd), s)
		if kern == AttnBlock {
			require.ErrorContains(t, err, "no blocked attention for head_dim 16")
			continue
		}
		require.NoError(t, err)
		d.Release()
	}
}
