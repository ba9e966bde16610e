//go:build js && wasm

package gpuops

import (
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/require"
)

// The fused gate/up GEMV with its GLU equals two matmuls (rounded to the
// activation type, as stored) and the CPU GLU, for each weight type, both
// activations, one and several rows, and weights bound in several chunks.
func TestMatMulGLU(t *testing.T) {
	for _, v := range variants(t) {
		c := opsContext(t, v)
		// The weight decoding is matmul's (tested for every type): these
		// cover the renamed second-weight helpers of each decoder family.
		for _, typ := range []dtype.DType{dtype.F16, dtype.Q8_0, dtype.Q5_0, dtype.Q4_K, dtype.Q6_K} {
			if !coveredIn(v, typ) {
				continue
			}
			m := NewMatMul2(c, typ)
			for _, tc := range []struct {
				rows, out int
				act       Activation
				chunked   bool
			}{{1, 37, SiLU, false}, {3, 19, GELUTanh, false}, {2, 45, SiLU, true}} {
				r := rand.New(rand.NewPCG(uint64(typ), uint64(tc.rows)))
				in := awkwardIn(typ)
				if !typ.Quantized() && tc.rows > 1 {
					in = 260 // the 4-element unit variant of plain types
				}
				gw, uw := newTestWeight(t, r, typ, in, tc.out), newTestWeight(t, r, typ, in, tc.out)
				x := roundAct(v.prec, randFloats(r, tc.rows*in, 1))
				bufs := newBuffers(t, c)
				gate, up := NewWeight(typ, in, tc.out, bufs.raw(gw.raw)), NewWeight(typ, in, tc.out, bufs.raw(uw.raw))
				saved := c.MaxBinding
				if tc.chunked {
					// Bindings of about 16 rows.
					c.MaxBinding = 16*gate.RowBytes() + c.align
					chunks, err := c.chunks(gate)
					require.NoError(t, err)
					require.Greater(t, len(chunks), 1, "the weights must be bound in chunks")
				}
				require.True(t, m.GLUPairs(gate, up))
				y := bufs.actOut(tc.rows * tc.out)
				d, err := m.PrepareGLU(testCtx(t), gate, up, bufs.act(x).Binding(), y.Binding(), tc.rows, tc.act)
				c.MaxBinding = saved
				require.NoError(t, err)
				run(t, c, d)
				g := roundAct(v.prec, refMatMul(x, gw.deq, tc.rows, in, tc.out))
				u := roundAct(v.prec, refMatMul(x, uw.deq, tc.rows, in, tc.out))
				act := arch.SiLU
				if tc.act == GELUTanh {
					act = arch.GELUTanh
				}
				want := floats(cpu.GLU(cpu.Floats(g, tc.rows, tc.out), cpu.Floats(u, tc.rows, tc.out), act))
				requireClose(t, name(v, " matmul_glu ", typ, " ", tc), readAct(t, c, y, len(want)), want, tolFor(v.prec, 1e-4))
				d.Release()
			}
		}
	}
	// Mismatched weights are refused.
	c := opsContext(t, variants(t)[0])
	bufs := newBuffers(t, c)
	m := NewMatMul2(c, dtype.Q8_0)
	r := rand.New(rand.NewPCG(1, 1))
	a := NewWeight(dtype.Q8_0, 64, 8, bufs.raw(newTestWeight(t, r, dtype.Q8_0, 64, 8).raw))
	b := NewWeight(dtype.Q8_0, 64, 9, bufs.raw(newTestWeight(t, r, dtype.Q8_0, 64, 9).raw))
	require.False(t, m.GLUPairs(a, b))
	_, err := m.PrepareGLU(testCtx(t), a, b, a.Parts[0].Buffer.Binding(), a.Parts[0].Buffer.Binding(), 1, SiLU)
	require.Error(t, err)
	require.True(t, m.Pairs(a, b), "a pair may differ in rows")
	require.False(t, m.Pairs(a, NewWeight(dtype.Q8_0, 32, 8, a.Parts[0].Buffer)), "not in row length")
}

// Two projections of one input in one launch equal two matmuls, for each
// weight type and both activations, with outputs of different widths.
func TestMatMulPair(t *testing.T) {
	for _, v := range variants(t) {
		c := opsContext(t, v)
		for _, typ := range []dtype.DType{dtype.F32, dtype.Q8_0, dtype.Q4_K, dtype.Q6_K} {
			if !coveredIn(v, typ) {
				continue
			}
			m := NewMatMul2(c, typ)
			for _, tc := range []struct{ rows, n1, n2 int }{{1, 40, 13}, {5, 9, 24}} {
				r := rand.New(rand.NewPCG(uint64(typ), uint64(tc.rows)+7))
				in := awkwardIn(typ)
				if !typ.Quantized() && tc.rows > 1 {
					in = 260
				}
				w1, w2 := newTestWeight(t, r, typ, in, tc.n1), newTestWeight(t, r, typ, in, tc.n2)
				x := roundAct(v.prec, randFloats(r, tc.rows*in, 1))
				bufs := newBuffers(t, c)
				a, b := NewWeight(typ, in, tc.n1, bufs.raw(w1.raw)), NewWeight(typ, in, tc.n2, bufs.raw(w2.raw))
				require.True(t, m.Pairs(a, b))
				y1, y2 := bufs.actOut(tc.rows*tc.n1), bufs.actOut(tc.rows*tc.n2)
				d, err := m.PreparePair(testCtx(t), a, b, bufs.act(x).Binding(), y1.Binding(), y2.Binding(), tc.rows)
				require.NoError(t, err)
				run(t, c, d)
				want1, want2 := refMatMul(x, w1.deq, tc.rows, in, tc.n1), refMatMul(x, w2.deq, tc.rows, in, tc.n2)
				requireClose(t, name(v, " matmul_pair y1 ", typ, " ", tc), readAct(t, c, y1, len(want1)), want1, tolFor(v.prec, 1e-4))
				requireClose(t, name(v, " matmul_pair y2 ", typ, " ", tc), readAct(t, c, y2, len(want2)), want2, tolFor(v.prec, 1e-4))
				d.Release()
			}
		}
	}
}
