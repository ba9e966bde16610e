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
	q := NewMatMulQKV(c)
	require.True(t, q.Fits([3]Weight{a, b, a}), "the weights may differ in rows")
	require.False(t, q.Fits([3]Weight{a, b, NewWeight(dtype.Q8_0, 32, 8, a.Parts[0].Buffer)}), "not in row length")
	require.False(t, q.Fits([3]Weight{a, b, NewWeight(dtype.F16, 64, 8, a.Parts[0].Buffer)}), "not in weight unit (32 and 4)")
}

// The tiled GLU matmul (a prompt's gate and up in one launch) equals the
// two tiled matmuls it replaces, with the CPU GLU of what they store, and
// the CPU reference: the float kernel for each unit size, the integer
// kernel (TiledQ8Fixed) at both k steps, its activations quantized by its
// own launch or by one before it (PrepareGLUQ8Rows); rows and outputs with
// partial tiles, weights bound in several chunks.
func TestMatMulGLUTiled(t *testing.T) {
	v, c, packed := tiledTestContext(t)
	type tcase struct {
		typ          dtype.DType
		rows, out    int
		act          Activation
		q8, step     int // TiledQ8Fixed and TiledQ8StepFixed
		chunked, pre bool
	}
	cases := []tcase{
		{dtype.F32, TiledMinRows, 45, SiLU, -1, 0, false, false},
		{dtype.F16, 70, 100, GELUTanh, -1, 0, false, false},
		{dtype.Q8_0, 70, 45, SiLU, -1, 0, true, false},
		{dtype.Q6_K, 33, 64, GELUTanh, -1, 0, false, false},
	}
	if packed {
		cases = append(cases,
			tcase{dtype.Q8_0, 70, 96, GELUTanh, 1, 32, false, false},
			tcase{dtype.Q4_K, TiledMinRows, 45, SiLU, 1, 64, false, true},
			tcase{dtype.Q5_0, 67, 70, SiLU, 1, 64, true, false},
			tcase{dtype.Q6_K, 129, 64, GELUTanh, 1, 32, false, true},
			tcase{dtype.Q4_K, 70, 160, SiLU, 1, 32, true, true},
		)
	}
	for _, tc := range cases {
		m, err := NewMatMul(testCtx(t), c, tc.typ)
		require.NoError(t, err)
		m2 := NewMatMul2(c, tc.typ)
		r := rand.New(rand.NewPCG(uint64(tc.typ), uint64(tc.rows*tc.out)))
		in := awkwardIn(tc.typ)
		if tc.typ == dtype.F16 {
			in = 260 // the 4-element unit
		}
		gw, uw := newTestWeight(t, r, tc.typ, in, tc.out), newTestWeight(t, r, tc.typ, in, tc.out)
		x := roundAct(v.prec, randFloats(r, tc.rows*in, 1))
		bufs := newBuffers(t, c)
		gate, up := NewWeight(tc.typ, in, tc.out, bufs.raw(gw.raw)), NewWeight(tc.typ, in, tc.out, bufs.raw(uw.raw))
		saved := c.MaxBinding
		if tc.chunked {
			c.MaxBinding = 16*gate.RowBytes() + c.align // about 16 rows a binding
		}
		require.True(t, m2.GLUPairs(gate, up))
		TiledQ8Fixed, TiledQ8StepFixed = tc.q8, tc.step
		xb, dq := tiledInput(t, c, bufs, x, in, tc.rows, tc.pre)
		y, g, u := bufs.actOut(tc.rows*tc.out), bufs.actOut(tc.rows*tc.out), bufs.actOut(tc.rows*tc.out)
		var d, dg, du *Dispatch
		if tc.pre {
			d, err = m2.PrepareGLUQ8Rows(testCtx(t), gate, up, xb, y.Binding(), tc.rows, tc.act)
		} else {
			d, err = m2.PrepareGLU(testCtx(t), gate, up, xb, y.Binding(), tc.rows, tc.act)
		}
		require.NoError(t, err)
		if tc.pre {
			dg, err = m.PrepareQ8Rows(gate, xb, g.Binding(), tc.rows)
			require.NoError(t, err)
			du, err = m.PrepareQ8Rows(up, xb, u.Binding(), tc.rows)
		} else {
			dg, err = m.Prepare(gate, xb, g.Binding(), tc.rows)
			require.NoError(t, err)
			du, err = m.Prepare(up, xb, u.Binding(), tc.rows)
		}
		require.NoError(t, err)
		chunks, err := c.chunks(gate)
		require.NoError(t, err)
		TiledQ8Fixed, TiledQ8StepFixed = 0, 0
		c.MaxBinding = saved
		if tc.chunked {
			require.Greater(t, len(chunks), 1, "the weights must be bound in chunks")
		}
		runTiled(t, c, d, dq, len(chunks), tc.q8 > 0 && !tc.pre, "one launch per chunk pair")
		run(t, c, dg)
		run(t, c, du)
		act := arch.SiLU
		if tc.act == GELUTanh {
			act = arch.GELUTanh
		}
		label := name(tc.typ, " tiled glu ", tc.rows, "x", in, "x", tc.out, " q8 ", tc.q8, " step ", tc.step, " pre ", tc.pre)
		got := readAct(t, c, y, tc.rows*tc.out)
		// What the separate matmuls store, through the CPU GLU: the fused
		// kernel sums each product in the same order, so only the
		// activation's exp differs.
		gs, us := readAct(t, c, g, tc.rows*tc.out), readAct(t, c, u, tc.rows*tc.out)
		sep := floats(cpu.GLU(cpu.Floats(gs, tc.rows, tc.out), cpu.Floats(us, tc.rows, tc.out), act))
		requireClose(t, label+" vs separate", got, sep, tolFor(v.prec, 1e-5))
		// The float64 reference, with x rounded as quantize_q8.wgsl rounds it
		// for the integer kernel.
		gr, ur := refRows(t, x, gw, tc.rows, tc.q8 > 0), refRows(t, x, uw, tc.rows, tc.q8 > 0)
		want := floats(cpu.GLU(cpu.Floats(roundAct(v.prec, gr), tc.rows, tc.out), cpu.Floats(roundAct(v.prec, ur), tc.rows, tc.out), act))
		requireClose(t, label, got, want, tolFor(v.prec, 1e-3))
		for _, dd := range []*Dispatch{dq, d, dg, du} {
			if dd != nil {
				dd.Release()
			}
		}
	}
}

// Three projections of one input in one launch equal three matmuls, for
// weights of one type and of mixed types (Q4_K_M's values), both
// activations, outputs of different widths.
func TestMatMulQKV(t *testing.T) {
	for _, v := range variants(t) {
		c := opsContext(t, v)
		m := NewMatMulQKV(c)
		for _, types := range [][3]dtype.DType{
			{dtype.F32, dtype.F32, dtype.F32}, {dtype.Q8_0, dtype.Q8_0, dtype.Q8_0}, {dtype.Q4_K, dtype.Q4_K, dtype.Q6_K},
			{dtype.Q5_0, dtype.Q5_0, dtype.Q8_0}, {dtype.F16, dtype.BF16, dtype.F32},
		} {
			if !coveredIn(v, types[0]) {
				continue
			}
			for _, tc := range []struct{ rows, n1, n2, n3 int }{{1, 40, 13, 13}, {5, 9, 24, 7}} {
				r := rand.New(rand.NewPCG(uint64(types[2]), uint64(tc.rows)+7))
				in := 256 * 3
				if !types[0].Quantized() {
					in = 260
				}
				ns := [3]int{tc.n1, tc.n2, tc.n3}
				bufs := newBuffers(t, c)
				x := roundAct(v.prec, randFloats(r, tc.rows*in, 1))
				tw, ws, outs, ys := newQKV(t, r, bufs, types, in, ns, tc.rows)
				require.True(t, m.Fits(ws))
				d, err := m.Prepare(testCtx(t), ws, bufs.act(x).Binding(), ys, tc.rows)
				require.NoError(t, err)
				run(t, c, d)
				for i := range ws {
					want := refMatMul(x, tw[i].deq, tc.rows, in, ns[i])
					requireClose(t, name(v, " matmul_qkv y", i+1, " ", types, " ", tc), readAct(t, c, outs[i], len(want)), want, tolFor(v.prec, 1e-4))
				}
				d.Release()
			}
		}
	}
}

// newQKV makes three test weights of types over rows of in, ns[i] outputs
// each, and their output buffers for rows activation rows.
func newQKV(t *testing.T, r *rand.Rand, bufs *buffers, types [3]dtype.DType, in int, ns [3]int, rows int) ([3]testWeight, [3]Weight, [3]*gpu.Buffer, [3]gpu.Binding) {
	var tw [3]testWeight
	var ws [3]Weight
	var outs [3]*gpu.Buffer
	var ys [3]gpu.Binding
	for i, typ := range types {
		tw[i] = newTestWeight(t, r, typ, in, ns[i])
		ws[i] = NewWeight(typ, in, ns[i], bufs.raw(tw[i].raw))
		outs[i] = bufs.actOut(rows * ns[i])
		ys[i] = outs[i].Binding()
	}
	return tw, ws, outs, ys
}

// tiledTestContext is the tiled matmul tests' variant and context, and
// whether the integer kernel runs there (packed dot products); it resets
// the integer kernel's test knobs when the test ends.
func tiledTestContext(t *testing.T) (variant, *Context, bool) {
	v := variants(t)[0]
	c := opsContext(t, v)
	t.Cleanup(func() { TiledQ8Fixed, TiledQ8StepFixed = 0, 0 })
	packed := c.Dev.Info.HasLanguageFeature(gpu.LanguagePacked4x8)
	if !packed {
		t.Logf("WGSL here lacks %s: the integer kernel is not tested", gpu.LanguagePacked4x8)
	}
	return v, c, packed
}

// tiledInput is x's binding for a tiled matmul test: x itself, or (pre)
// its rows as 8-bit activations, stored by the launch it returns.
func tiledInput(t *testing.T, c *Context, bufs *buffers, x []float32, in, rows int, pre bool) (gpu.Binding, *Dispatch) {
	t.Helper()
	xb := bufs.act(x).Binding()
	if !pre {
		return xb, nil
	}
	xq := bufs.actOut(rows * int(Q8Bytes(in)) / c.Prec.Bytes())
	dq, err := c.PrepareQuantizeRows(xb, xq.Binding(), in, rows)
	require.NoError(t, err)
	return xq.Binding(), dq
}

// runTiled checks that d makes launches launches (one more where it
// quantizes its rows itself) and runs dq (when not nil), then d.
func runTiled(t *testing.T, c *Context, d, dq *Dispatch, launches int, quantizes bool, msg string) {
	t.Helper()
	if quantizes {
		launches++
	}
	require.Len(t, d.Steps, launches, msg)
	if dq != nil {
		run(t, c, dq)
	}
	run(t, c, d)
}

// refRows is the float64 reference of x's rows (rows of w.In) by w, with
// x rounded as quantize_q8.wgsl rounds it where q8 (the integer kernel).
func refRows(t *testing.T, x []float32, w testWeight, rows int, q8 bool) []float32 {
	t.Helper()
	in := len(x) / rows
	var y []float32
	for row := range rows {
		xr := x[row*in : (row+1)*in]
		if q8 {
			y = append(y, refQ8MatMul(t, xr, w)...)
		} else {
			y = append(y, refMatMul(xr, w.deq, 1, in, len(w.deq)/in)...)
		}
	}
	return y
}
