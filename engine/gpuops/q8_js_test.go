//go:build js && wasm

package gpuops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/quant"
	"github.com/stretchr/testify/require"
)

// quantizeQ8 is quantize_q8.wgsl's rounding of x (blocks of 32, d =
// max|x|/127, q = round half to even of x/d), dequantized.
func quantizeQ8(x []float32) []float32 {
	out := make([]float32, len(x))
	for b := 0; b < len(x); b += 32 {
		var m float32
		for _, v := range x[b : b+32] {
			m = max(m, float32(math.Abs(float64(v))))
		}
		d := m / 127
		div := d
		if d <= 0 {
			div = 1
		}
		for i, v := range x[b : b+32] {
			out[b+i] = d * float32(math.RoundToEven(float64(v/div)))
		}
	}
	return out
}

// q8MinOffsets is, per element of w, the −dmin·m its K-quant sub-block
// subtracts (the value a zero quant decodes to), which the q8 kernels apply
// to the exact Σ x rather than the quantized one; zero for other types.
func q8MinOffsets(t *testing.T, w testWeight) []float32 {
	var bs, qs int // block size, start of the quants (after d, dmin, scales)
	switch w.dtype {
	case dtype.Q4_K:
		bs, qs = 144, 16
	case dtype.Q5_K:
		bs, qs = 176, 16
	default:
		return make([]float32, len(w.deq))
	}
	zero := append([]byte(nil), w.raw...)
	for b := 0; b < len(zero); b += bs {
		clear(zero[b+qs : b+bs])
	}
	z, err := quant.ToFloat32(w.dtype, zero, len(w.deq))
	require.NoError(t, err)
	return z
}

// refQ8MatMul is x·wᵀ (one row) as the q8 kernels compute it: Σ w·x̃ +
// Σ m·(x̃ − x), the K-quants' min terms taking the exact Σ x.
func refQ8MatMul(t *testing.T, x []float32, w testWeight) []float32 {
	xq := quantizeQ8(x)
	want := refMatMul(xq, w.deq, 1, w.in, w.out)
	dx := make([]float32, w.in)
	for k := range dx {
		dx[k] = x[k] - xq[k]
	}
	corr := refMatMul(dx, q8MinOffsets(t, w), 1, w.in, w.out)
	for i := range want {
		want[i] += corr[i]
	}
	return want
}

// TestMatMulQ8 runs the decode GEMV on 8-bit activations (Q8Fixed) for
// every weight type that has it, at several lanes and parts, against the
// float64 product with the activations rounded as the kernel rounds them.
func TestMatMulQ8(t *testing.T) {
	v := variants(t)[0]
	c := opsContext(t, v)
	if !c.Dev.Info.HasLanguageFeature(gpu.LanguagePacked4x8) {
		t.Skipf("WGSL here lacks %s", gpu.LanguagePacked4x8)
	}
	defer func() { Q8Fixed = 0 }()
	for _, tc := range []struct {
		typ          dtype.DType
		in, out      int
		lanes, parts int // 0: the default choice
	}{
		{dtype.Q8_0, 640, 300, 0, 0}, {dtype.Q8_0, 96, 70000, 0, 0}, {dtype.Q8_0, 1024, 50, 16, 8},
		{dtype.Q5_0, 640, 300, 0, 0}, {dtype.Q5_0, 1024, 40, 8, 2}, {dtype.Q5_0, 256, 33, 32, 8},
		{dtype.Q4_0, 512, 40, 8, 8}, {dtype.Q4_0, 640, 77, 0, 0},
		{dtype.Q4_K, 2304, 70, 0, 0}, {dtype.Q4_K, 768, 40, 16, 1}, {dtype.Q4_K, 256, 70000, 0, 0},
		{dtype.Q5_K, 1024, 40, 32, 1}, {dtype.Q5_K, 512, 41, 0, 0},
		{dtype.Q6_K, 4096, 40, 0, 0}, {dtype.Q6_K, 256, 90, 16, 1}, {dtype.Q6_K, 512, 33, 64, 2},
	} {
		m, err := NewMatMul(testCtx(t), c, tc.typ)
		require.NoError(t, err)
		r := rand.New(rand.NewPCG(7, uint64(tc.out*tc.in)))
		w := newTestWeight(t, r, tc.typ, tc.in, tc.out)
		x := roundAct(v.prec, randFloats(r, tc.in, 1))
		x[3] = 0 // a block with zeros and one of all zeros below
		if tc.in >= 64 {
			clear(x[32:64])
		}
		bufs := newBuffers(t, c)
		y := bufs.actOut(tc.out)
		Q8Fixed, gemvLanesFixed, gemvPartsFixed = 1, tc.lanes, tc.parts
		d, err := m.Prepare(NewWeight(tc.typ, tc.in, tc.out, bufs.raw(w.raw)), bufs.act(x).Binding(), y.Binding(), 1)
		Q8Fixed, gemvLanesFixed, gemvPartsFixed = 0, 0, 0
		require.NoError(t, err)
		require.Len(t, d.Steps, 2, "quantize, then the GEMV")
		run(t, c, d)
		want := refQ8MatMul(t, x, w)
		requireClose(t, name(tc.typ, " q8 matmul ", tc.in, "x", tc.out, " lanes ", tc.lanes, " parts ", tc.parts),
			readAct(t, c, y, tc.out), want, tolFor(v.prec, 1e-3))
		d.Release()
	}
}

// TestMatMulTiledQ8 runs the integer tiled matmul (TiledQ8Fixed) for every
// weight type that has it, at k steps of 32 and 64 (k not a multiple of 64
// for the 32-element block types), on shapes with partial tiles in both
// dimensions, with k split as splitsFor picks and in 3 uneven splits,
// against the float64 product with each row rounded as quantize_q8.wgsl
// rounds it.
func TestMatMulTiledQ8(t *testing.T) {
	v := variants(t)[0]
	c := opsContext(t, v)
	if !c.Dev.Info.HasLanguageFeature(gpu.LanguagePacked4x8) {
		t.Skipf("WGSL here lacks %s", gpu.LanguagePacked4x8)
	}
	defer func() { TiledQ8Fixed, TiledQ8StepFixed, SplitFixed = 0, 0, 0 }()
	for _, typ := range []dtype.DType{dtype.Q8_0, dtype.Q4_0, dtype.Q5_0, dtype.Q4_K, dtype.Q5_K, dtype.Q6_K} {
		m, err := NewMatMul(testCtx(t), c, typ)
		require.NoError(t, err)
		in := 352 // 11 blocks: the last 64-element step half empty
		if typ.BlockSize() > 32 {
			in = 768
		}
		for _, tc := range []struct{ rows, out, step, splits int }{
			{TiledMinRows, 64, 32, 0}, {67, 133, 32, 3}, {129, 63, 64, 0}, {70, 70, 64, 3},
		} {
			r := rand.New(rand.NewPCG(uint64(typ), uint64(tc.rows*tc.out)))
			w := newTestWeight(t, r, typ, in, tc.out)
			x := roundAct(v.prec, randFloats(r, tc.rows*in, 1))
			clear(x[in+32 : in+64]) // a block of zeros
			bufs := newBuffers(t, c)
			y := bufs.actOut(tc.rows * tc.out)
			TiledQ8Fixed, TiledQ8StepFixed, SplitFixed = 1, tc.step, tc.splits
			d, err := m.Prepare(NewWeight(typ, in, tc.out, bufs.raw(w.raw)), bufs.act(x).Binding(), y.Binding(), tc.rows)
			TiledQ8Fixed, TiledQ8StepFixed, SplitFixed = 0, 0, 0
			require.NoError(t, err)
			splits, _ := splitsFor(in, tc.out, tc.step)
			if tc.splits > 0 {
				splits = tc.splits
			}
			require.Len(t, d.Steps, 2+min(splits-1, 1), "quantize, the tiled launch, the sum of splits")
			run(t, c, d)
			var want []float32
			for row := range tc.rows {
				want = append(want, refQ8MatMul(t, x[row*in:(row+1)*in], w)...)
			}
			got := readAct(t, c, y, len(want))
			requireClose(t, name(typ, " tiled q8 matmul ", tc.rows, "x", in, "x", tc.out, " step ", tc.step, " splits ", tc.splits),
				got, want, tolFor(v.prec, 1e-3))
			d.Release()

			// The same rows quantized by a launch of their own, as q/k/v share.
			xq := bufs.actOut(tc.rows * int(Q8Bytes(in)) / v.prec.Bytes())
			dq, err := c.PrepareQuantizeRows(bufs.act(x).Binding(), xq.Binding(), in, tc.rows)
			require.NoError(t, err)
			y2 := bufs.actOut(tc.rows * tc.out)
			TiledQ8Fixed, TiledQ8StepFixed, SplitFixed = 1, tc.step, tc.splits
			d, err = m.PrepareQ8Rows(NewWeight(typ, in, tc.out, bufs.raw(w.raw)), xq.Binding(), y2.Binding(), tc.rows)
			TiledQ8Fixed, TiledQ8StepFixed, SplitFixed = 0, 0, 0
			require.NoError(t, err)
			run(t, c, dq)
			run(t, c, d)
			require.Equal(t, got, readAct(t, c, y2, len(want)))
			dq.Release()
			d.Release()
		}
	}
}

// TestMatMulQ8Fused runs the GLU and the q/k/v GEMVs on 8-bit activations:
// the second and third weights read them through renamed helpers.
func TestMatMulQ8Fused(t *testing.T) {
	v := variants(t)[0]
	c := opsContext(t, v)
	if !c.Dev.Info.HasLanguageFeature(gpu.LanguagePacked4x8) {
		t.Skipf("WGSL here lacks %s", gpu.LanguagePacked4x8)
	}
	defer func() { Q8Fixed = 0 }()
	for _, typ := range []dtype.DType{dtype.Q5_0, dtype.Q4_K, dtype.Q6_K, dtype.Q8_0} {
		r := rand.New(rand.NewPCG(11, uint64(typ)))
		in, out := 512, 37
		gw, uw := newTestWeight(t, r, typ, in, out), newTestWeight(t, r, typ, in, out)
		x := roundAct(v.prec, randFloats(r, in, 1))
		bufs := newBuffers(t, c)
		y := bufs.actOut(out)
		Q8Fixed = 1
		d, err := NewMatMul2(c, typ).PrepareGLU(testCtx(t), NewWeight(typ, in, out, bufs.raw(gw.raw)),
			NewWeight(typ, in, out, bufs.raw(uw.raw)), bufs.act(x).Binding(), y.Binding(), 1, GELUTanh)
		Q8Fixed = 0
		require.NoError(t, err)
		require.Len(t, d.Steps, 2, "quantize, then the GEMV")
		run(t, c, d)
		g := roundAct(v.prec, refQ8MatMul(t, x, gw))
		u := roundAct(v.prec, refQ8MatMul(t, x, uw))
		want := floats(cpu.GLU(cpu.Floats(g, 1, out), cpu.Floats(u, 1, out), arch.GELUTanh))
		requireClose(t, name(typ, " q8 matmul_glu"), readAct(t, c, y, out), want, tolFor(v.prec, 1e-3))
		d.Release()
	}
	m := NewMatMulQKV(c)
	for _, types := range [][3]dtype.DType{{dtype.Q4_K, dtype.Q4_K, dtype.Q6_K}, {dtype.Q5_0, dtype.Q5_0, dtype.Q8_0}} {
		r := rand.New(rand.NewPCG(13, uint64(types[0])))
		in, ns := 768, [3]int{40, 13, 21}
		x := roundAct(v.prec, randFloats(r, in, 1))
		bufs := newBuffers(t, c)
		tw, ws, outs, ys := newQKV(t, r, bufs, types, in, ns, 1)
		Q8Fixed = 1
		d, err := m.Prepare(testCtx(t), ws, bufs.act(x).Binding(), ys, 1)
		Q8Fixed = 0
		require.NoError(t, err)
		require.Len(t, d.Steps, 2, "quantize, then the GEMV")
		run(t, c, d)
		for i := range ws {
			want := refQ8MatMul(t, x, tw[i])
			requireClose(t, name("q8 matmul_qkv y", i+1, " ", types), readAct(t, c, outs[i], ns[i]), want, tolFor(v.prec, 1e-3))
		}
		d.Release()
	}
}

// TestNormQ8Out runs each norm kernel with its 8-bit copy of the row
// (NormParams.Q8Out): the copy equals what the quantize launch makes of the
// stored row, word for word, for rows of one to several quads per
// invocation and past the norms' registers; a GEMV reading it
// (PrepareQ8In) gives what the GEMV on the floats gives.
func TestNormQ8Out(t *testing.T) {
	v := variants(t)[0]
	c := opsContext(t, v)
	if !c.Dev.Info.HasLanguageFeature(gpu.LanguagePacked4x8) {
		t.Skipf("WGSL here lacks %s", gpu.LanguagePacked4x8)
	}
	defer func() { Q8Fixed = 0 }()
	norm, err := NewRMSNorm(testCtx(t), c)
	require.NoError(t, err)
	mm, err := NewMatMul(testCtx(t), c, dtype.Q5_0)
	require.NoError(t, err)
	// One row (a decode GEMV's) at several lengths, and a prompt chunk's
	// rows (the tiled matmuls').
	for _, tc := range []struct{ rows, n int }{{1, 256}, {1, 640}, {1, 2304}, {1, 4608}, {3, 640}} {
		rows, n := tc.rows, tc.n
		r := rand.New(rand.NewPCG(17, uint64(n)))
		x, b := roundAct(v.prec, randFloats(r, rows*n, 3)), roundAct(v.prec, randFloats(r, rows*n, 3))
		w := newTestWeight(t, r, dtype.Q5_0, n, 33)
		bufs := newBuffers(t, c)
		w1, w2 := bufs.raw(f32Bytes(randFloats(r, n, 2))), bufs.raw(f32Bytes(randFloats(r, n, 2)))
		for _, kind := range []string{"rmsnorm", "rmsnorm_add", "rmsnorm_add_pre"} {
			out, q := bufs.actOut(rows*n), bufs.empty(uint64(rows)*Q8Bytes(n))
			p := NormParams{Rows: rows, N: n, Eps: 1e-5, OnePlus: kind == "rmsnorm_add_pre", Q8Out: q.Binding()}
			var d *Dispatch
			switch kind {
			case "rmsnorm":
				d, err = norm.Prepare(bufs.act(x).Binding(), w1.Binding(), out.Binding(), p)
			case "rmsnorm_add":
				d, err = norm.PrepareAdd(bufs.act(x).Binding(), bufs.act(b).Binding(), w1.Binding(), out.Binding(), p)
			default:
				d, err = norm.PrepareNormAdd(bufs.act(x).Binding(), bufs.act(b).Binding(), w1.Binding(), w2.Binding(), out.Binding(), p)
			}
			require.NoError(t, err)
			run(t, c, d)
			// The quantize launch on the stored rows.
			qref := bufs.empty(uint64(rows) * Q8Bytes(n))
			ref, err := c.PrepareQuantizeRows(out.Binding(), qref.Binding(), n, rows)
			require.NoError(t, err)
			run(t, c, ref)
			words := rows * int(Q8Bytes(n)/4)
			require.Equal(t, readI32(t, c, qref, words), readI32(t, c, q, words), "%s of %d×%d: the norm's 8-bit rows", kind, rows, n)
			// A GEMV on it, and on the floats.
			y1, y2 := bufs.actOut(33), bufs.actOut(33)
			wt := NewWeight(dtype.Q5_0, n, 33, bufs.raw(w.raw))
			g1, err := mm.PrepareQ8In(wt, q.Binding(), y1.Binding())
			require.NoError(t, err)
			require.Len(t, g1.Steps, 1, "no quantize launch of its own")
			Q8Fixed = 1
			g2, err := mm.Prepare(wt, out.Binding(), y2.Binding(), 1)
			Q8Fixed = 0
			require.NoError(t, err)
			run(t, c, g1, g2)
			require.Equal(t, readAct(t, c, y2, 33), readAct(t, c, y1, 33), "%s of %d: GEMV", kind, n)
			for _, dd := range []*Dispatch{d, ref, g1, g2} {
				dd.Release()
			}
		}
	}
	_, err = norm.Prepare(gpu.Binding{}, gpu.Binding{}, gpu.Binding{}, NormParams{Rows: 2, N: 48, Q8Out: gpu.Binding{Buffer: newBuffers(t, c).empty(256)}})
	require.Error(t, err, "rows of a multiple of 32 only")
}
