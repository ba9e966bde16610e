//go:build js && wasm

package gpuops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/stretchr/testify/require"
)

// moeMirror recomputes MoE step by step with the GPU's roundings of
// intermediate activations (round), for the f16 path; with round = identity
// it is engine/ref's computation.
func moeMirror(x []float32, router, gate, up, down testWeight, s MoEShape, round func([]float32) []float32) []float32 {
	logits := round(refMatMul(x, router.deq, s.Rows, s.Hidden, s.Experts))
	out := make([]float32, s.Rows*s.Hidden)
	act := arch.SiLU
	if s.Act == GELUTanh {
		act = arch.GELUTanh
	}
	for r := 0; r < s.Rows; r++ {
		l := logits[r*s.Experts : (r+1)*s.Experts]
		m := math.Inf(-1)
		for _, v := range l {
			m = math.Max(m, float64(v))
		}
		var sum float64
		for _, v := range l {
			sum += math.Exp(float64(v) - m)
		}
		taken := make([]bool, s.Experts)
		var sel []int
		var kept float64
		for range s.Used {
			best := -1
			for i, v := range l {
				if !taken[i] && (best < 0 || v > l[best]) {
					best = i
				}
			}
			taken[best] = true
			sel = append(sel, best)
			kept += math.Exp(float64(l[best]) - m)
		}
		xr := x[r*s.Hidden : (r+1)*s.Hidden]
		acc := make([]float64, s.Hidden)
		for _, e := range sel {
			w := math.Exp(float64(l[e])-m) / sum
			if s.NormTopK {
				w = math.Exp(float64(l[e])-m) / kept
			}
			g := round(refMatMul(xr, gate.deq[e*s.FFN*s.Hidden:], 1, s.Hidden, s.FFN))
			u := round(refMatMul(xr, up.deq[e*s.FFN*s.Hidden:], 1, s.Hidden, s.FFN))
			h := round(floats(cpu.GLU(cpu.Floats(g, s.FFN), cpu.Floats(u, s.FFN), act)))
			y := round(refMatMul(h, down.deq[e*s.Hidden*s.FFN:], 1, s.FFN, s.Hidden))
			for i := range acc {
				acc[i] += float64(float32(w)) * float64(y[i])
			}
		}
		for i := range acc {
			out[r*s.Hidden+i] = float32(acc[i])
		}
	}
	return round(out)
}

func TestMoE(t *testing.T) {
	for _, v := range variants(t) {
		if v.prec == F16 && v.subgroups {
			continue // f16 and subgroups are each covered on their own
		}
		c := opsContext(t, v)
		moe, err := NewMoE(testCtx(t), c)
		require.NoError(t, err)
		for _, tc := range []struct {
			typ        dtype.DType
			hidden     int
			ffn        int
			shape      MoEShape
			maxBinding uint64
		}{
			{dtype.F32, 40, 24, MoEShape{Rows: 1, Experts: 8, Used: 2, NormTopK: true, Act: SiLU}, 0},
			{dtype.Q8_0, 64, 96, MoEShape{Rows: 3, Experts: 6, Used: 3, Act: GELUTanh}, 0},
			{dtype.Q4_K, 256, 256, MoEShape{Rows: 2, Experts: 5, Used: 2, NormTopK: true, Act: SiLU}, 40000}, // chunks of a few experts
		} {
			if tc.maxBinding > 0 {
				old := c.MaxBinding
				c.MaxBinding = tc.maxBinding
				defer func() { c.MaxBinding = old }()
			}
			s := tc.shape
			s.Hidden, s.FFN = tc.hidden, tc.ffn
			r := rand.New(rand.NewPCG(37, uint64(tc.hidden)))
			router := newTestWeight(t, r, dtype.F32, s.Hidden, s.Experts)
			gate := newTestWeight(t, r, tc.typ, s.Hidden, s.FFN*s.Experts)
			up := newTestWeight(t, r, tc.typ, s.Hidden, s.FFN*s.Experts)
			down := newTestWeight(t, r, tc.typ, s.FFN, s.Hidden*s.Experts)
			x := roundAct(v.prec, randFloats(r, s.Rows*s.Hidden, 1))
			bufs := newBuffers(t, c)
			out := bufs.actOut(s.Rows * s.Hidden)
			wt := func(w testWeight) Weight { return NewWeight(w.dtype, w.in, w.out, bufs.raw(w.raw)) }
			d, err := moe.Prepare(testCtx(t), bufs.act(x).Binding(), out.Binding(), wt(router), wt(gate), wt(up), wt(down), s)
			require.NoError(t, err)
			run(t, c, d)
			got := readAct(t, c, out, len(x))
			label := name(v, " moe ", tc.typ, " ", s)
			if v.prec == F32 {
				want := floats(cpu.MoE(cpu.Floats(x, s.Rows, s.Hidden), cpuWeight(t, router, s.Hidden, s.Experts),
					cpuWeight(t, gate, s.Hidden, s.FFN, s.Experts), cpuWeight(t, up, s.Hidden, s.FFN, s.Experts),
					cpuWeight(t, down, s.FFN, s.Hidden, s.Experts), arch.MoEParams{Used: s.Used, NormTopK: s.NormTopK, Act: map[Activation]arch.Activation{SiLU: arch.SiLU, GELUTanh: arch.GELUTanh}[s.Act]}))
				requireClose(t, label+" vs ref", got, want, 1e-4)
			} else {
				want := moeMirror(x, router, gate, up, down, s, func(v []float32) []float32 { return roundAct(F16, v) })
				requireClose(t, label+" vs f16 mirror", got, want, tolFor(F16, 1e-4))
			}
			d.Release()
		}
	}
}

// cpuWeight loads a test weight into the CPU backend with a ggml shape.
func cpuWeight(t *testing.T, w testWeight, shape ...int) arch.Tensor {
	t.Helper()
	s64 := make([]int64, len(shape))
	for i, d := range shape {
		s64[i] = int64(d)
	}
	tt, err := cpu.Weight(model.TensorInfo{Name: "w", Shape: s64, DType: w.dtype}, w.raw)
	require.NoError(t, err)
	return tt
}
