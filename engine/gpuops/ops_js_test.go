//go:build js && wasm

package gpuops

import (
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/stretchr/testify/require"
)

// cpu is the reference backend the kernels must agree with.
var cpu = ref.New()

func floats(t arch.Tensor) []float32 { return t.(*ref.Tensor).Floats() }

func TestRMSNorm(t *testing.T) {
	for _, v := range variants(t) {
		c := opsContext(t, v)
		n, err := NewRMSNorm(testCtx(t), c)
		require.NoError(t, err)
		for _, shape := range []struct{ rows, n int }{{1, 257}, {3, 64}, {7, 1000}, {2, 4500}} { // 4500: past the registers rmsnorm_add keeps
			r := rand.New(rand.NewPCG(11, uint64(shape.n)))
			x := roundAct(v.prec, randFloats(r, shape.rows*shape.n, 3))
			b := roundAct(v.prec, randFloats(r, shape.rows*shape.n, 3))
			w := randFloats(r, shape.n, 2)
			bufs := newBuffers(t, c)
			wb := bufs.raw(f32Bytes(w))
			for _, onePlus := range []bool{false, true} {
				eff := w
				if onePlus {
					eff = make([]float32, len(w))
					for i := range w {
						eff[i] = w[i] + 1
					}
				}
				p := NormParams{Rows: shape.rows, N: shape.n, Eps: 1e-5, OnePlus: onePlus}
				// Plain.
				xb, out := bufs.act(x), bufs.actOut(len(x))
				d, err := n.Prepare(xb.Binding(), wb.Binding(), out.Binding(), p)
				require.NoError(t, err)
				run(t, c, d)
				want := floats(cpu.RMSNorm(cpu.Floats(x, shape.rows, shape.n), cpu.Floats(eff, shape.n), 1e-5))
				requireClose(t, name(v, " rmsnorm ", shape, " 1+w ", onePlus), readAct(t, c, out, len(x)), want, tolFor(v.prec, 1e-5))
				d.Release()
				// Fused add: a = a + b in place, out = norm(a).
				ab, bb, out2 := bufs.act(x), bufs.act(b), bufs.actOut(len(x))
				d, err = n.PrepareAdd(ab.Binding(), bb.Binding(), wb.Binding(), out2.Binding(), p)
				require.NoError(t, err)
				run(t, c, d)
				sum := roundAct(v.prec, floats(cpu.Add(cpu.Floats(x, len(x)), cpu.Floats(b, len(b)))))
				requireClose(t, name(v, " residual ", shape), readAct(t, c, ab, len(x)), sum, tolFor(v.prec, 1e-6))
				want = floats(cpu.RMSNorm(cpu.Floats(sum, shape.rows, shape.n), cpu.Floats(eff, shape.n), 1e-5))
				requireClose(t, name(v, " add+rmsnorm ", shape, " 1+w ", onePlus), readAct(t, c, out2, len(x)), want, tolFor(v.prec, 1e-5))
				d.Release()
				// Norm of b, add, norm of the sum: a = a + norm(b)·w2, out = norm(a)·w.
				w2 := randFloats(r, shape.n, 2)
				ab, bb, out3 := bufs.act(x), bufs.act(b), bufs.actOut(len(x))
				d, err = n.PrepareNormAdd(ab.Binding(), bb.Binding(), bufs.raw(f32Bytes(w2)).Binding(), wb.Binding(), out3.Binding(), p)
				require.NoError(t, err)
				run(t, c, d)
				hb := roundAct(v.prec, floats(cpu.RMSNorm(cpu.Floats(b, shape.rows, shape.n), cpu.Floats(w2, shape.n), 1e-5)))
				sum = roundAct(v.prec, floats(cpu.Add(cpu.Floats(x, len(x)), cpu.Floats(hb, len(hb)))))
				requireClose(t, name(v, " norm+residual ", shape), readAct(t, c, ab, len(x)), sum, tolFor(v.prec, 1e-5))
				want = floats(cpu.RMSNorm(cpu.Floats(sum, shape.rows, shape.n), cpu.Floats(eff, shape.n), 1e-5))
				requireClose(t, name(v, " rmsnorm+add+rmsnorm ", shape, " 1+w ", onePlus), readAct(t, c, out3, len(x)), want, tolFor(v.prec, 1e-5))
				d.Release()
			}
		}
	}
}

func TestRope(t *testing.T) {
	for _, v := range variants(t) {
		c := opsContext(t, v)
		rp, err := NewRope(testCtx(t), c)
		require.NoError(t, err)
		for _, tc := range []struct {
			style           model.RopeStyle
			rows, heads, hd int
			dim             int
			theta           float64
			factors         bool
		}{
			{model.RopeNormal, 1, 4, 64, 0, 10000, false},
			{model.RopeNeoX, 5, 3, 24, 0, 1e6, false},
			{model.RopeNormal, 3, 2, 64, 32, 500000, true}, // partial rotary + rope_freqs
			{model.RopeNeoX, 4, 2, 16, 10, 10000, true},
			{model.RopeNeoX, 2, 2, 256, 0, 1e6, false},       // two pairs per invocation (rope_qk's registers)
			{model.RopeNormal, 1, 2, 640, 512, 10000, false}, // pairs past the registers, then unrotated dims
		} {
			r := rand.New(rand.NewPCG(13, uint64(tc.hd)))
			n := tc.rows * tc.heads * tc.hd
			x := roundAct(v.prec, randFloats(r, n, 2))
			pos := make([]int32, tc.rows)
			for i := range pos {
				pos[i] = int32(r.IntN(600))
			}
			dim := tc.dim
			if dim == 0 {
				dim = tc.hd
			}
			cfg := RopeConfig{Neox: tc.style == model.RopeNeoX, Dim: tc.dim, Theta: tc.theta}
			rp2 := arch.RopeParams{Style: tc.style, Dim: tc.dim, Theta: tc.theta}
			if tc.factors {
				cfg.Factors = make([]float32, dim/2)
				for i := range cfg.Factors {
					cfg.Factors[i] = 1 + float32(i%5)
				}
				rp2.Factors = cpu.Floats(cfg.Factors, dim/2)
			}
			bufs := newBuffers(t, c)
			xb := bufs.act(x)
			step := bufs.raw(i32Bytes(append([]int32{-1, -1}, pos...)))
			d, err := rp.Prepare(xb.Binding(), step.Binding(), 2, tc.rows, tc.heads, tc.hd, cfg)
			require.NoError(t, err)
			run(t, c, d)
			want := floats(cpu.Rope(cpu.Floats(x, tc.rows, tc.heads, tc.hd), cpu.Ints(pos, tc.rows), rp2))
			// Angles up to 600 rad are rounded to f32 on the GPU: ~3e-5 absolute.
			requireClose(t, name(v, " rope ", tc), readAct(t, c, xb, n), want, tolFor(v.prec, 1e-4))
			d.Release()

			// Queries and keys in one launch (GQA: fewer key heads), with and
			// without the per-head norm before rotating.
			kHeads := max(1, tc.heads/2)
			k := roundAct(v.prec, randFloats(r, tc.rows*kHeads*tc.hd, 2))
			qn, kn := randFloats(r, tc.hd, 2), randFloats(r, tc.hd, 2)
			for _, withNorm := range []bool{false, true} {
				qb, kb := bufs.act(x), bufs.act(k)
				var norm *QKNorm
				wantQ, wantK := cpu.Floats(x, tc.rows, tc.heads, tc.hd), cpu.Floats(k, tc.rows, kHeads, tc.hd)
				if withNorm {
					norm = &QKNorm{Q: bufs.raw(f32Bytes(qn)).Binding(), K: bufs.raw(f32Bytes(kn)).Binding(), Eps: 1e-6}
					wantQ = cpu.Floats(roundAct(v.prec, floats(cpu.RMSNorm(wantQ, cpu.Floats(qn, tc.hd), 1e-6))), tc.rows, tc.heads, tc.hd)
					wantK = cpu.Floats(roundAct(v.prec, floats(cpu.RMSNorm(wantK, cpu.Floats(kn, tc.hd), 1e-6))), tc.rows, kHeads, tc.hd)
				}
				d, err := rp.PrepareQK(testCtx(t), qb.Binding(), kb.Binding(), step.Binding(), 2, tc.rows, tc.heads, kHeads, tc.hd, cfg, norm)
				require.NoError(t, err)
				run(t, c, d)
				requireClose(t, name(v, " rope q ", tc, " norm ", withNorm), readAct(t, c, qb, n), floats(cpu.Rope(wantQ, cpu.Ints(pos, tc.rows), rp2)), tolFor(v.prec, 1e-4))
				requireClose(t, name(v, " rope k ", tc, " norm ", withNorm), readAct(t, c, kb, len(k)), floats(cpu.Rope(wantK, cpu.Ints(pos, tc.rows), rp2)), tolFor(v.prec, 1e-4))
				d.Release()
			}
		}
	}
}

func TestEltwise(t *testing.T) {
	for _, v := range variants(t) {
		c := opsContext(t, v)
		e, err := NewEltwise(testCtx(t), c)
		require.NoError(t, err)
		for _, n := range []int{1, 257, 70001} {
			r := rand.New(rand.NewPCG(17, uint64(n)))
			a := roundAct(v.prec, randFloats(r, n, 6))
			b := roundAct(v.prec, randFloats(r, n, 6))
			bufs := newBuffers(t, c)
			ab, bb := bufs.act(a), bufs.act(b)
			ta, tb := cpu.Floats(a, n), cpu.Floats(b, n)
			for _, op := range []struct {
				label   string
				prepare func(out gpu.Binding) (*Dispatch, error)
				want    arch.Tensor
				tol     float64
			}{
				{"add", func(o gpu.Binding) (*Dispatch, error) { return e.PrepareAdd(ab.Binding(), bb.Binding(), o, n) }, cpu.Add(ta, tb), 1e-6},
				{"glu silu", func(o gpu.Binding) (*Dispatch, error) { return e.PrepareGLU(ab.Binding(), bb.Binding(), o, n, SiLU) }, cpu.GLU(ta, tb, arch.SiLU), 1e-5},
				{"glu gelu", func(o gpu.Binding) (*Dispatch, error) {
					return e.PrepareGLU(ab.Binding(), bb.Binding(), o, n, GELUTanh)
				}, cpu.GLU(ta, tb, arch.GELUTanh), 1e-5},
				{"scale", func(o gpu.Binding) (*Dispatch, error) { return e.PrepareScale(ab.Binding(), o, n, 0.37) }, cpu.Scale(ta, 0.37), 1e-6},
				{"softcap", func(o gpu.Binding) (*Dispatch, error) { return e.PrepareSoftcap(ab.Binding(), o, n, 2.5) }, cpu.Softcap(ta, 2.5), 1e-5},
			} {
				out := bufs.actOut(n)
				d, err := op.prepare(out.Binding())
				require.NoError(t, err)
				run(t, c, d)
				requireClose(t, name(v, " ", op.label, " n=", n), readAct(t, c, out, n), floats(op.want), tolFor(v.prec, op.tol))
				d.Release()
			}
		}
	}
}

func TestRows(t *testing.T) {
	for _, v := range variants(t) {
		c := opsContext(t, v)
		e, err := NewEltwise(testCtx(t), c)
		require.NoError(t, err)
		r := rand.New(rand.NewPCG(29, 1))
		const n, width = 9, 33
		x := roundAct(v.prec, randFloats(r, n*width, 4))
		idx := []int32{8, 0, 3, 3}
		bufs := newBuffers(t, c)
		out := bufs.actOut(len(idx) * width)
		d, err := e.PrepareRows(bufs.act(x).Binding(), bufs.raw(i32Bytes(append([]int32{-5}, idx...))).Binding(), 1, out.Binding(), len(idx), width)
		require.NoError(t, err)
		run(t, c, d)
		want := floats(cpu.Rows(cpu.Floats(x, n, width), cpu.Ints(idx, len(idx))))
		requireClose(t, name(v, " rows"), readAct(t, c, out, len(want)), want, 0)
		d.Release()
	}
}

func TestArgmax(t *testing.T) {
	for _, v := range variants(t) {
		c := opsContext(t, v)
		am, err := NewArgmax(testCtx(t), c)
		require.NoError(t, err)
		for _, tc := range []struct{ rows, vocab int }{{1, 1}, {1, 32000}, {3, 4097}, {2, 151936}} {
			r := rand.New(rand.NewPCG(19, uint64(tc.vocab)))
			logits := roundAct(v.prec, randFloats(r, tc.rows*tc.vocab, 10))
			want := make([]int32, tc.rows)
			for row := 0; row < tc.rows; row++ {
				l := logits[row*tc.vocab : (row+1)*tc.vocab]
				// Plant ties: the winner value twice, the lower index must win.
				hi := r.IntN(tc.vocab)
				l[hi] = 20
				if tc.vocab > 1 {
					l[(hi+tc.vocab/2+1)%tc.vocab] = 20
				}
				best := 0
				for i, x := range l {
					if x > l[best] {
						best = i
					}
				}
				want[row] = int32(best)
			}
			bufs := newBuffers(t, c)
			out := bufs.raw(i32Bytes(make([]int32, tc.rows+1)))
			d, err := am.Prepare(bufs.act(logits).Binding(), out.Binding(), 1, tc.rows, tc.vocab)
			require.NoError(t, err)
			run(t, c, d)
			got := readI32(t, c, out, tc.rows+1)
			require.Equal(t, want, got[1:], name(v, " argmax ", tc))
			d.Release()
		}
	}
}

// TestAddManyWorkgroups covers element-wise launches of more than 65535
// workgroups (split over y by gpu.Grid, linearized in the kernel).
func TestAddManyWorkgroups(t *testing.T) {
	v := variants(t)[0]
	c := opsContext(t, v)
	e, err := NewEltwise(testCtx(t), c)
	require.NoError(t, err)
	n := 64*65535 + 100
	r := rand.New(rand.NewPCG(41, 1))
	a, b := randFloats(r, n, 1), randFloats(r, n, 1)
	bufs := newBuffers(t, c)
	out := bufs.actOut(n)
	d, err := e.PrepareAdd(bufs.act(a).Binding(), bufs.act(b).Binding(), out.Binding(), n)
	require.NoError(t, err)
	require.Greater(t, d.Steps[0].Y, uint32(1))
	run(t, c, d)
	requireClose(t, "add 4M", readAct(t, c, out, n), floats(cpu.Add(cpu.Floats(a, n), cpu.Floats(b, n))), 0)
	d.Release()
}
