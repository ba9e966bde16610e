//go:build js && wasm

package gpuops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/quant"
	"github.com/stretchr/testify/require"
)

var allWeightTypes = []dtype.DType{dtype.F32, dtype.F16, dtype.BF16, dtype.Q8_0, dtype.Q4_0, dtype.Q5_0, dtype.Q4_K, dtype.Q5_K, dtype.Q6_K}

// awkwardIn is an awkward row length for t: odd for plain types (their
// matmul also runs rows of a multiple of 4 elsewhere), 3 blocks
// for 32-element blocks, 2 super-blocks for K-quants.
func awkwardIn(t dtype.DType) int {
	switch t.BlockSize() {
	case 1:
		return 257
	case 32:
		return 96
	}
	return 512
}

// coveredIn says whether weight type t is tested in variant v. Both numeric
// paths (f32 and f16 activations) run every type with shared-memory
// reductions; the subgroup variants change only the reduction, not the
// weight decoding, so a few types cover them (lavapipe takes seconds to
// compile each pipeline).
func coveredIn(v variant, t dtype.DType) bool {
	if !v.subgroups {
		return true
	}
	return t == dtype.F32 || t == dtype.Q4_K
}

// tiledCovered says whether the tiled kernel is tested with type t: its
// tiling depends on the unit size only (1: F32 rows of 257, 4: F16 rows of
// 260, 32: Q8_0's unaligned and Q6_K's 16-scale blocks), the decoding is the
// GEMV's, tested for every type.
func tiledCovered(t dtype.DType) bool {
	return t == dtype.F32 || t == dtype.F16 || t == dtype.Q8_0 || t == dtype.Q6_K
}

// testWeight is a random weight packed as t with its exact dequantized
// values (the CPU reference's view of it).
type testWeight struct {
	raw   []byte
	deq   []float32
	in    int
	out   int
	dtype dtype.DType
}

func newTestWeight(t *testing.T, r *rand.Rand, typ dtype.DType, in, out int) testWeight {
	t.Helper()
	src := randFloats(r, in*out, 1)
	raw, err := quant.Quantize(typ, src)
	require.NoError(t, err)
	deq, err := quant.ToFloat32(typ, raw, in*out)
	require.NoError(t, err)
	return testWeight{raw: raw, deq: deq, in: in, out: out, dtype: typ}
}

// refMatMul is y[r][n] = Σ x[r][k]·w[n][k] in float64.
func refMatMul(x, w []float32, rows, in, out int) []float32 {
	y := make([]float32, rows*out)
	for r := 0; r < rows; r++ {
		for n := 0; n < out; n++ {
			var s float64
			for k := 0; k < in; k++ {
				s += float64(x[r*in+k]) * float64(w[n*in+k])
			}
			y[r*out+n] = float32(s)
		}
	}
	return y
}

func TestEmbedAllTypes(t *testing.T) {
	for _, v := range variants(t) {
		if v.subgroups {
			continue // the gather has no reduction
		}
		c := opsContext(t, v)
		for _, typ := range allWeightTypes {
			if !coveredIn(v, typ) {
				continue
			}
			r := rand.New(rand.NewPCG(uint64(typ), 7))
			hidden, vocab := awkwardIn(typ), 37
			w := newTestWeight(t, r, typ, hidden, vocab)
			bufs := newBuffers(t, c)
			e, err := NewEmbed(testCtx(t), c, typ)
			require.NoError(t, err)
			ids := []int32{5, 0, 36, 5, 17}
			// ids start at element 3 of a step buffer, as the runtime lays them out.
			step := bufs.raw(i32Bytes(append([]int32{9, 9, 9}, ids...)))
			out := bufs.actOut(len(ids) * hidden)
			for _, scale := range []float32{1, float32(math.Sqrt(float64(hidden)))} {
				table := NewWeight(typ, hidden, vocab, bufs.raw(w.raw))
				d, err := e.Prepare(table, step.Binding(), 3, out.Binding(), len(ids), scale)
				require.NoError(t, err)
				run(t, c, d)
				want := make([]float32, 0, len(ids)*hidden)
				for _, id := range ids {
					for _, x := range w.deq[int(id)*hidden : int(id+1)*hidden] {
						want = append(want, x*scale)
					}
				}
				requireClose(t, name(v, " embed ", typ, " scale ", scale), readAct(t, c, out, len(want)), want, tolFor(v.prec, 1e-6))
				d.Release()
			}
		}
	}
}

// TestEmbedChunked binds the table in chunks smaller than the whole (as a
// 262k-vocab table larger than maxStorageBufferBindingSize needs) and from
// two buffers.
func TestEmbedChunked(t *testing.T) {
	v := variants(t)[0]
	c := opsContext(t, v)
	defer func(m uint64) { c.MaxBinding = m }(c.MaxBinding)
	c.MaxBinding = 1024
	for _, typ := range []dtype.DType{dtype.Q8_0, dtype.Q6_K, dtype.F16} {
		r := rand.New(rand.NewPCG(uint64(typ), 8))
		hidden, vocab := awkwardIn(typ), 29
		w := newTestWeight(t, r, typ, hidden, vocab)
		rb := len(w.raw) / vocab
		bufs := newBuffers(t, c)
		// Rows 0..12 in one buffer (at an odd multiple of 2), 13.. in another.
		first := append(make([]byte, 6), w.raw[:13*rb]...)
		table := Weight{DType: typ, In: hidden, Out: vocab, Parts: []WeightPart{
			{Buffer: bufs.raw(first), Offset: 6, Rows: 13},
			{Buffer: bufs.raw(w.raw[13*rb:]), Rows: vocab - 13},
		}}
		chunks, err := c.chunks(table)
		require.NoError(t, err)
		require.Greater(t, len(chunks), 3, "the test must exercise several chunks")
		e, err := NewEmbed(testCtx(t), c, typ)
		require.NoError(t, err)
		ids := []int32{28, 0, 12, 13, 3, 27, 14}
		out := bufs.actOut(len(ids) * hidden)
		d, err := e.Prepare(table, bufs.raw(i32Bytes(ids)).Binding(), 0, out.Binding(), len(ids), 1)
		require.NoError(t, err)
		run(t, c, d)
		var want []float32
		for _, id := range ids {
			want = append(want, w.deq[int(id)*hidden:int(id+1)*hidden]...)
		}
		requireClose(t, name(typ, " chunked embed"), readAct(t, c, out, len(want)), want, tolFor(v.prec, 1e-6))
		d.Release()
	}
}

// TestMatMulAllTypes runs the GEMV and the float tiled kernel for every
// weight type against the float64 product (TestMatMulTiledQ8: the integer
// tiled kernel, which GPUs take for quantized weights).
func TestMatMulAllTypes(t *testing.T) {
	TiledQ8Fixed = -1
	defer func() { TiledQ8Fixed = 0 }()
	for _, v := range variants(t) {
		c := opsContext(t, v)
		for _, typ := range allWeightTypes {
			if !coveredIn(v, typ) {
				continue
			}
			m, err := NewMatMul(testCtx(t), c, typ)
			require.NoError(t, err)
			for _, shape := range []struct{ rows, out int }{{1, 37}, {6, 19}, {37, 70}} { // GEMV, GEMV, tiled
				if shape.rows >= TiledMinRows && !tiledCovered(typ) {
					continue
				}
				r := rand.New(rand.NewPCG(uint64(typ), uint64(shape.rows)))
				in := awkwardIn(typ)
				if typ == dtype.F16 || !typ.Quantized() && shape.rows < TiledMinRows && shape.rows > 1 {
					in = 260 // the 4-element unit variant of plain types
				}
				w := newTestWeight(t, r, typ, in, shape.out)
				x := roundAct(v.prec, randFloats(r, shape.rows*in, 1))
				bufs := newBuffers(t, c)
				y := bufs.actOut(shape.rows * shape.out)
				d, err := m.Prepare(NewWeight(typ, in, shape.out, bufs.raw(w.raw)), bufs.act(x).Binding(), y.Binding(), shape.rows)
				require.NoError(t, err)
				run(t, c, d)
				want := refMatMul(x, w.deq, shape.rows, in, shape.out)
				requireClose(t, name(v, " matmul ", typ, " ", shape), readAct(t, c, y, len(want)), want, tolFor(v.prec, 1e-4))
				d.Release()
			}
		}
	}
}

// TestMatMulLarge covers vocab-sized outputs, more than 65535 workgroups
// (which spill into y), the GEMV's lanes per row (gemvLanes) from 8 to
// 256, each reduction path of rg_sum4, and 1 to 8 lanes per unit.
func TestMatMulLarge(t *testing.T) {
	for i, v := range variants(t) {
		c := opsContext(t, v)
		for _, tc := range []struct {
			typ           dtype.DType
			rows, in, out int
			lanes         int // 0: gemvLanes's choice
			parts         int // 0: gemvParts's choice
		}{
			{dtype.Q8_0, 1, 64, 32000, 0, 0}, {dtype.F16, 1, 8, 300007, 256, 0}, {dtype.Q4_K, 2, 256, 1500, 0, 0},
			{dtype.Q4_K, 1, 2560, 70, 0, 8}, {dtype.Q6_K, 3, 4096, 40, 256, 1}, {dtype.Q8_0, 2, 1024, 50, 16, 8},
			{dtype.F16, 1, 96, 33, 8, 0}, {dtype.Q5_0, 1, 1024, 40, 8, 2}, {dtype.Q4_0, 2, 512, 40, 8, 8},
			{dtype.Q5_K, 1, 1024, 40, 32, 1}, {dtype.Q4_K, 3, 768, 40, 16, 2},
		} {
			if i > 0 && tc.out > 10000 {
				continue // vocab-sized outputs once
			}
			m, err := NewMatMul(testCtx(t), c, tc.typ)
			require.NoError(t, err)
			gemvLanesFixed, gemvPartsFixed = tc.lanes, tc.parts
			r := rand.New(rand.NewPCG(3, uint64(tc.out)))
			w := newTestWeight(t, r, tc.typ, tc.in, tc.out)
			x := roundAct(v.prec, randFloats(r, tc.rows*tc.in, 1))
			bufs := newBuffers(t, c)
			y := bufs.actOut(tc.rows * tc.out)
			d, err := m.Prepare(NewWeight(tc.typ, tc.in, tc.out, bufs.raw(w.raw)), bufs.act(x).Binding(), y.Binding(), tc.rows)
			gemvLanesFixed, gemvPartsFixed = 0, 0
			require.NoError(t, err)
			lanes := gemvLanes(tc.typ, tc.in/matmulUnit(tc.typ, tc.in), tc.out)
			if tc.lanes > 0 {
				lanes = tc.lanes
			}
			parts := newGemvShape(matmulUnit(tc.typ, tc.in), 1, 1, 1, tc.typ).parts
			if tc.parts > 0 {
				parts = min(tc.parts, gemvMaxParts(tc.typ))
			}
			if gemvGroups(tc.out, tc.rows, lanes) > 65535 {
				require.Greater(t, d.Steps[0].Y, uint32(1), "dispatch must spill into y")
			}
			run(t, c, d)
			want := refMatMul(x, w.deq, tc.rows, tc.in, tc.out)
			requireClose(t, name(v, " matmul ", tc.typ, " ", tc.rows, "x", tc.in, "x", tc.out, " lanes ", lanes, " parts ", parts), readAct(t, c, y, len(want)), want, tolFor(v.prec, 1e-4))
			d.Release()
		}
	}
}

// TestMatMulChunked runs matmuls over weights bound in chunks of rows (a
// tiny MaxBinding): the GEMV, the tiled kernel with k split and, where
// WGSL has the packed dot product, the integer tiled kernel (Q4_K q8, its
// one quantize launch before the chunks).
func TestMatMulChunked(t *testing.T) {
	v := variants(t)[0]
	c := opsContext(t, v)
	defer func(m uint64) { c.MaxBinding, TiledQ8Fixed = m, 0 }(c.MaxBinding)
	c.MaxBinding = 1024
	for _, tc := range []struct {
		typ dtype.DType
		q8  bool
	}{{dtype.Q4_K, false}, {dtype.Q4_K, true}, {dtype.Q5_0, false}, {dtype.BF16, false}} {
		typ := tc.typ
		if tc.q8 && !c.Dev.Info.HasLanguageFeature(gpu.LanguagePacked4x8) {
			continue
		}
		TiledQ8Fixed = -1
		if tc.q8 {
			TiledQ8Fixed = 1
		}
		m, err := NewMatMul(testCtx(t), c, typ)
		require.NoError(t, err)
		r := rand.New(rand.NewPCG(5, uint64(typ)))
		in, out, rows := awkwardIn(typ), 41, 5
		if typ == dtype.Q4_K {
			rows = 33 // tiled kernel, k split (512 ≥ a chunk's outputs)
		}
		w := newTestWeight(t, r, typ, in, out)
		x := roundAct(v.prec, randFloats(r, rows*in, 1))
		bufs := newBuffers(t, c)
		y := bufs.actOut(rows * out)
		wt := NewWeight(typ, in, out, bufs.raw(w.raw))
		chunks, err := c.chunks(wt)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(chunks), 3)
		d, err := m.Prepare(wt, bufs.act(x).Binding(), y.Binding(), rows)
		require.NoError(t, err)
		want, tol := refMatMul(x, w.deq, rows, in, out), 1e-4
		if typ == dtype.Q4_K {
			quantize := 0
			if tc.q8 {
				quantize = 1
				want, tol = nil, 1e-3
				for row := range rows {
					want = append(want, refQ8MatMul(t, x[row*in:(row+1)*in], w)...)
				}
			}
			require.Len(t, d.Steps, quantize+2*len(chunks), "each chunk split over k, then summed")
		}
		run(t, c, d)
		requireClose(t, name(typ, " chunked matmul q8 ", tc.q8), readAct(t, c, y, len(want)), want, tolFor(v.prec, tol))
		d.Release()
	}
}

// TestMatMulTiled runs the tiled kernel on shapes with partial tiles in both
// dimensions (rows past one and two tile heights, outputs past the tile's
// width, K not a multiple of the k step), once with workgroups spilling
// into y (a tiny per-dimension limit, leaving surplus groups), for every
// weight type with f32 activations and for each unit size (F32 rows of
// 257: 1, F16 rows of 260: 4, Q4_K: 32) with f16 activations, with k split
// as splitsFor picks and in 3 uneven splits; a 32×64 tile (benchmarks
// time it) for those three types and Q8_0.
func TestMatMulTiled(t *testing.T) {
	defer func(f tileShape, n int) { TiledFixed, SplitFixed = f, n }(TiledFixed, SplitFixed)
	for vi, v := range variants(t) {
		if v.subgroups {
			continue // the tiled kernel has no reduction
		}
		c := opsContext(t, v)
		for ti, tile := range []tileShape{tileLarge, {32, 64, 4, 4}} {
			if !c.holds(tile, 0, 0) {
				t.Logf("%v: the device does not hold the %dx%d tile", v, tile.rows, tile.cols)
				continue
			}
			TiledFixed = tile
			for _, typ := range allWeightTypes {
				if vi > 0 && typ != dtype.F32 && typ != dtype.F16 && typ != dtype.Q4_K {
					continue // the activation type does not meet the weight decoding
				}
				if ti > 0 && typ != dtype.F32 && typ != dtype.F16 && typ != dtype.Q4_K && typ != dtype.Q8_0 {
					continue
				}
				testMatMulTiled(t, v, c, typ, tile, 0)
				if ti == 0 && vi == 0 {
					testMatMulTiled(t, v, c, typ, tile, 3) // k in 3 splits, the last shorter
				}
			}
		}
	}
}

// testMatMulTiled runs the shapes of TestMatMulTiled with k in splits
// splits (0: as splitsFor picks).
func testMatMulTiled(t *testing.T, v variant, c *Context, typ dtype.DType, tile tileShape, splits int) {
	SplitFixed, TiledQ8Fixed = splits, -1 // the float kernel (TestMatMulTiledQ8: the integer one)
	defer func() { TiledQ8Fixed = 0 }()
	m, err := NewMatMul(testCtx(t), c, typ)
	require.NoError(t, err)
	in := awkwardIn(typ) // 257 for plain types: unit 1
	if typ == dtype.F16 {
		in = 260 // unit 4
	}
	for _, tc := range []struct {
		rows, out int
		perDim    uint32 // maxComputeWorkgroupsPerDimension override (0: the device's)
	}{
		{TiledMinRows, tile.cols, 0},
		{tile.rows + 3, 2*tile.cols + 5, 0},
		{2*tile.rows + 1, tile.cols - 1, 0},
		{tile.rows - 1, 4*tile.cols + 1, 2}, // 5 groups launched as 2×3: one surplus
	} {
		r := rand.New(rand.NewPCG(uint64(typ), uint64(tc.rows*tc.out)))
		w := newTestWeight(t, r, typ, in, tc.out)
		x := roundAct(v.prec, randFloats(r, tc.rows*in, 1))
		bufs := newBuffers(t, c)
		y := bufs.actOut(tc.rows * tc.out)
		saved := c.maxPerDim
		if tc.perDim != 0 {
			c.maxPerDim = tc.perDim
		}
		d, err := m.Prepare(NewWeight(typ, in, tc.out, bufs.raw(w.raw)), bufs.act(x).Binding(), y.Binding(), tc.rows)
		c.maxPerDim = saved
		require.NoError(t, err)
		if tc.perDim != 0 {
			require.Greater(t, d.Steps[0].Y, uint32(1), "dispatch must spill into y")
		}
		if splits > 1 {
			require.Len(t, d.Steps, 2, "split k: the tiled launch, then the sum")
		}
		run(t, c, d)
		want := refMatMul(x, w.deq, tc.rows, in, tc.out)
		requireClose(t, name(v, " tiled matmul ", tile, " splits ", splits, " ", typ, " ", tc.rows, "x", in, "x", tc.out), readAct(t, c, y, len(want)), want, tolFor(v.prec, 1e-4))
		d.Release()
	}
}
