//go:build js && wasm

package gpuops

import (
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/stretchr/testify/require"
)

// gemvNormRef is what the norm kernels compute for one row: the sum S (A +
// B, or A + norm(B)·w1 rounded) and the normed row norm(S)·w2', rounded as
// stored.
func gemvNormRef(p Precision, a, b, w1, w2 []float32, post, onePlus bool) (sum, x []float32) {
	n := len(a)
	h := b
	if post {
		h = roundAct(p, floats(cpu.RMSNorm(cpu.Floats(b, 1, n), cpu.Floats(w1, n), 1e-6)))
	}
	sum = roundAct(p, floats(cpu.Add(cpu.Floats(a, n), cpu.Floats(h, n))))
	eff := w2
	if onePlus {
		eff = make([]float32, n)
		for i := range w2 {
			eff[i] = w2[i] + 1
		}
	}
	x = roundAct(p, floats(cpu.RMSNorm(cpu.Floats(sum, 1, n), cpu.Floats(eff, n), 1e-6)))
	return sum, x
}

// The GLU and q/k/v GEMVs with the residual add and norm fused in equal the
// norm then the GEMV (the norm's roundings included), and store the
// residual sum, for both norm forms, 1 + w, rows of 1–3 register quads per
// invocation (the last partly filled) and block and plain weight types.
func TestGemvNorm(t *testing.T) {
	defer func() { GemvNormFixed = 0 }()
	for _, v := range variants(t) {
		GemvNormFixed = 1 // lavapipe is a fallback adapter
		c := opsContext(t, v)
		qkvFits := c.GemvNormFits(256, 64, QKVStorage)
		if !qkvFits {
			t.Logf("%v: %d storage buffers per stage: the fused q/k/v GEMV is not tested here", v, c.Dev.Info.Limit("maxStorageBuffersPerShaderStage"))
		}
		for _, tc := range []struct {
			typ, typ3     dtype.DType
			n, out        int
			post, onePlus bool
		}{
			{dtype.Q8_0, dtype.Q8_0, 640, 33, true, true},
			{dtype.Q4_K, dtype.Q6_K, 2304, 20, true, false},
			{dtype.Q5_0, dtype.Q8_0, 1152, 17, false, true},
			{dtype.F16, dtype.F32, 260, 9, false, false},
		} {
			if !coveredIn(v, tc.typ) {
				continue
			}
			r := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.out)))
			bufs := newBuffers(t, c)
			a := roundAct(v.prec, randFloats(r, tc.n, 3))
			b := roundAct(v.prec, randFloats(r, tc.n, 3))
			w1, w2 := randFloats(r, tc.n, 2), randFloats(r, tc.n, 2)
			sum, x := gemvNormRef(v.prec, a, b, w1, w2, tc.post, tc.onePlus)
			norm := func() (GemvNorm, *gpu.Buffer) {
				s := bufs.actOut(tc.n)
				return GemvNorm{A: bufs.act(a).Binding(), B: bufs.act(b).Binding(), W1: bufs.raw(f32Bytes(w1)).Binding(),
					W2: bufs.raw(f32Bytes(w2)).Binding(), S: s.Binding(), Post: tc.post, N: tc.n, Eps: 1e-6, OnePlus: tc.onePlus}, s
			}
			label := name(v, " ", tc.typ, " n ", tc.n, " post ", tc.post, " 1+w ", tc.onePlus)

			// GLU.
			gw, uw := newTestWeight(t, r, tc.typ, tc.n, tc.out), newTestWeight(t, r, tc.typ, tc.n, tc.out)
			gate, up := NewWeight(tc.typ, tc.n, tc.out, bufs.raw(gw.raw)), NewWeight(tc.typ, tc.n, tc.out, bufs.raw(uw.raw))
			nm, s := norm()
			y := bufs.actOut(tc.out)
			d, err := NewMatMul2(c, tc.typ).PrepareGLUNorm(testCtx(t), gate, up, nm, y.Binding(), SiLU)
			require.NoError(t, err)
			run(t, c, d)
			requireClose(t, label+" glu sum", readAct(t, c, s, tc.n), sum, tolFor(v.prec, 1e-6))
			g := roundAct(v.prec, refMatMul(x, gw.deq, 1, tc.n, tc.out))
			u := roundAct(v.prec, refMatMul(x, uw.deq, 1, tc.n, tc.out))
			want := floats(cpu.GLU(cpu.Floats(g, 1, tc.out), cpu.Floats(u, 1, tc.out), arch.SiLU))
			requireClose(t, label+" glu", readAct(t, c, y, tc.out), want, tolFor(v.prec, 2e-4))
			d.Release()

			// Q/K/V, the third weight of another type.
			if !qkvFits {
				continue
			}
			outs := [3]int{tc.out, 8, 5}
			types := [3]dtype.DType{tc.typ, tc.typ, tc.typ3}
			var tw [3]testWeight
			var ws [3]Weight
			var ys [3]gpu.Binding
			var yb [3]*gpu.Buffer
			for i := range ws {
				tw[i] = newTestWeight(t, r, types[i], tc.n, outs[i])
				ws[i] = NewWeight(types[i], tc.n, outs[i], bufs.raw(tw[i].raw))
				yb[i] = bufs.actOut(outs[i])
				ys[i] = yb[i].Binding()
			}
			nm, s = norm()
			d, err = NewMatMulQKV(c).PrepareNorm(testCtx(t), ws, nm, ys)
			require.NoError(t, err)
			run(t, c, d)
			requireClose(t, label+" qkv sum", readAct(t, c, s, tc.n), sum, tolFor(v.prec, 1e-6))
			for i := range ws {
				want := refMatMul(x, tw[i].deq, 1, tc.n, outs[i])
				requireClose(t, name(label, " qkv y", i+1), readAct(t, c, yb[i], outs[i]), want, tolFor(v.prec, 2e-4))
			}
			d.Release()
		}
	}
	// What the kernel cannot hold is refused.
	c := opsContext(t, variants(t)[0])
	bufs := newBuffers(t, c)
	r := rand.New(rand.NewPCG(3, 3))
	w := NewWeight(dtype.Q8_0, 64, 8, bufs.raw(newTestWeight(t, r, dtype.Q8_0, 64, 8).raw))
	_, err := NewMatMul2(c, dtype.Q8_0).PrepareGLUNorm(testCtx(t), w, w, GemvNorm{N: 32}, w.Parts[0].Buffer.Binding(), SiLU)
	require.ErrorContains(t, err, "fused norm")
	require.False(t, c.GemvNormFits(gemvNormMaxN+4, 8, GLUStorage), "too long a row")
	require.False(t, c.GemvNormFits(642, 8, GLUStorage), "not quads")
	GemvNormFixed = 0
	require.Equal(t, !c.Dev.Info.Adapter.IsFallbackAdapter, c.GemvNormFits(1024, 3072, GLUStorage), "GPUs only")
	// The shapes measured on the H200: gate/up of Qwen3-0.6B and gemma-3-270m
	// gained, those of gemma-3-1b and gemma-2-2b lost.
	require.True(t, gemvNormPays(1024, 3072))
	require.True(t, gemvNormPays(640, 2048))
	require.False(t, gemvNormPays(1152, 6912))
	require.False(t, gemvNormPays(2304, 9216))
}
