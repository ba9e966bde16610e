//go:build js && wasm

package gpuops

import (
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/stretchr/testify/require"
)

// TestMatMulShared runs two or three weights of one input in one tiled
// launch (both kernels, both k steps, pre-quantized rows, partial tiles in
// rows and in the last weight) against the separate matmuls and the
// float64 reference.
func TestMatMulShared(t *testing.T) {
	v, c, packed := tiledTestContext(t)
	type tcase struct {
		typ      dtype.DType
		rows     int
		outs     []int
		q8, step int // TiledQ8Fixed and TiledQ8StepFixed
		pre      bool
	}
	cases := []tcase{
		{dtype.F32, TiledMinRows, []int{64, 128, 70}, -1, 0, false},
		{dtype.F16, 70, []int{192, 64, 45}, -1, 0, false},
		{dtype.Q8_0, 33, []int{64, 64}, -1, 0, false},
		{dtype.Q6_K, 70, []int{320, 200}, -1, 0, false},
	}
	if packed {
		cases = append(cases,
			tcase{dtype.Q8_0, 70, []int{64, 128, 33}, 1, 32, false},
			tcase{dtype.Q4_K, 129, []int{384, 128, 64}, 1, 64, true},
			tcase{dtype.Q5_0, 67, []int{128, 64, 64}, 1, 64, false},
			tcase{dtype.Q6_K, TiledMinRows, []int{256, 320}, 1, 32, true},
		)
	}
	for _, tc := range cases {
		m, err := NewMatMul(testCtx(t), c, tc.typ)
		require.NoError(t, err)
		r := rand.New(rand.NewPCG(uint64(tc.typ), uint64(tc.rows*len(tc.outs))))
		in := awkwardIn(tc.typ)
		if tc.typ == dtype.F16 {
			in = 260 // the 4-element unit
		}
		bufs := newBuffers(t, c)
		x := roundAct(v.prec, randFloats(r, tc.rows*in, 1))
		var tws []testWeight
		var ws []Weight
		var ys, seps []*gpu.Buffer
		var ybs []gpu.Binding
		for _, out := range tc.outs {
			tw := newTestWeight(t, r, tc.typ, in, out)
			tws = append(tws, tw)
			ws = append(ws, NewWeight(tc.typ, in, out, bufs.raw(tw.raw)))
			y := bufs.actOut(tc.rows * out)
			ys, ybs = append(ys, y), append(ybs, y.Binding())
			seps = append(seps, bufs.actOut(tc.rows*out))
		}
		TiledQ8Fixed, TiledQ8StepFixed = tc.q8, tc.step
		require.True(t, m.Shares(ws, tc.rows))
		xb, dq := tiledInput(t, c, bufs, x, in, tc.rows, tc.pre)
		d, err := m.PrepareShared(ws, xb, ybs, tc.rows, tc.pre)
		require.NoError(t, err)
		var sep []*Dispatch
		for i, w := range ws {
			var ds *Dispatch
			if tc.pre {
				ds, err = m.PrepareQ8Rows(w, xb, seps[i].Binding(), tc.rows)
			} else {
				ds, err = m.Prepare(w, xb, seps[i].Binding(), tc.rows)
			}
			require.NoError(t, err)
			sep = append(sep, ds)
		}
		TiledQ8Fixed, TiledQ8StepFixed = 0, 0
		runTiled(t, c, d, dq, 1, tc.q8 > 0 && !tc.pre, "one launch for all the weights")
		run(t, c, sep...)
		for i, out := range tc.outs {
			label := name(tc.typ, " shared ", i, " of ", tc.outs, " rows ", tc.rows, " in ", in, " q8 ", tc.q8, " step ", tc.step, " pre ", tc.pre)
			got := readAct(t, c, ys[i], tc.rows*out)
			requireClose(t, label+" vs separate", got, readAct(t, c, seps[i], tc.rows*out), tolFor(v.prec, 1e-5))
			requireClose(t, label, got, roundAct(v.prec, refRows(t, x, tws[i], tc.rows, tc.q8 > 0)), tolFor(v.prec, 1e-3))
		}
		for _, dd := range append(sep, dq, d) {
			if dd != nil {
				dd.Release()
			}
		}
	}
}

// TestMatMulSharesOnly checks what PrepareShared refuses.
func TestMatMulSharesOnly(t *testing.T) {
	c := opsContext(t, variants(t)[0])
	m, err := NewMatMul(testCtx(t), c, dtype.Q8_0)
	require.NoError(t, err)
	bufs := newBuffers(t, c)
	w := func(typ dtype.DType, in, out int) Weight {
		return NewWeight(typ, in, out, bufs.empty(NewWeight(typ, in, out, nil).RowBytes()*uint64(out)))
	}
	for _, tc := range []struct {
		name string
		ws   []Weight
		rows int
	}{
		{"one weight", []Weight{w(dtype.Q8_0, 96, 128)}, 64},
		{"four weights", []Weight{w(dtype.Q8_0, 96, 64), w(dtype.Q8_0, 96, 64), w(dtype.Q8_0, 96, 64), w(dtype.Q8_0, 96, 64)}, 64},
		{"a weight of another dtype", []Weight{w(dtype.Q8_0, 96, 64), w(dtype.Q4_0, 96, 64)}, 64},
		{"other input lengths", []Weight{w(dtype.Q8_0, 96, 64), w(dtype.Q8_0, 128, 64)}, 64},
		{"a tile across two weights", []Weight{w(dtype.Q8_0, 96, 70), w(dtype.Q8_0, 96, 64)}, 64},
		{"outputs few enough to split k", []Weight{w(dtype.Q8_0, 2048, 64), w(dtype.Q8_0, 2048, 64)}, 64},
		{"rows for the GEMV", []Weight{w(dtype.Q8_0, 96, 64), w(dtype.Q8_0, 96, 64)}, TiledMinRows - 1},
	} {
		require.False(t, m.Shares(tc.ws, tc.rows), tc.name)
		_, err := m.PrepareShared(tc.ws, tc.ws[0].Parts[0].Buffer.Binding(), make([]gpu.Binding, len(tc.ws)), tc.rows, false)
		require.Error(t, err, tc.name)
	}
}
