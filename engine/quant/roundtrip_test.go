package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/require"
)

// datasets are the inputs every round-trip bound must hold on.
func datasets() map[string][]float32 {
	const n = 256 * 16
	r := rand.New(rand.NewPCG(7, 9))
	gen := func(f func(i int) float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = f(i)
		}
		return x
	}
	return map[string][]float32{
		"gaussian":      gen(func(int) float32 { return float32(r.NormFloat64()) }),
		"uniform":       gen(func(int) float32 { return r.Float32()*2 - 1 }),
		"zeros":         make([]float32, n),
		"constant":      gen(func(int) float32 { return 0.7 }),
		"constant neg":  gen(func(int) float32 { return -3.25 }),
		"negative only": gen(func(int) float32 { return -1 - r.Float32() }),
		"positive only": gen(func(int) float32 { return 2 + r.Float32() }),
		"one outlier": gen(func(i int) float32 {
			if i%256 == 77 {
				return 100
			}
			return float32(r.NormFloat64()) * 0.01
		}),
		"tiny":  gen(func(int) float32 { return float32(r.NormFloat64()) * 1e-4 }),
		"huge":  gen(func(int) float32 { return float32(r.NormFloat64()) * 3000 }),
		"ramps": gen(func(i int) float32 { return float32(i%256)/64 - 2 }),
		"sparse": gen(func(i int) float32 {
			if r.IntN(8) == 0 {
				return float32(r.NormFloat64())
			}
			return 0
		}),
	}
}

func fp16Err(v float32) float32 { return abs32(v - F16ToF32(F32ToF16(v))) }

// bound returns the largest error allowed for x[i] in block x (of the type's
// block size), from the quantizer's own arithmetic: half a step of the
// block's scale, plus what rounding the scale (and min) to fp16 adds at the
// largest level, plus slack for float32 rounding.
type boundFunc func(block []float32, i int) float32

func q8Bound(block []float32, _ int) float32 {
	_, amax := absMaxSigned(block)
	d := amax / 127
	return 0.5*d + 127*fp16Err(d) + 1e-6*amax
}

// symBound is for Q4_0/Q5_0: d = max/-levels; the element of largest
// magnitude maps exactly to -levels, but the far end of the range clamps to
// levels-1, so the worst case is one whole step there.
func symBound(levels float32) boundFunc {
	return func(block []float32, i int) float32 {
		max, amax := absMaxSigned(block)
		d := abs32(max / levels)
		limit := 0.5 * d
		if block[i]*max < 0 && abs32(block[i]) > (levels-1)*d {
			limit = d
		}
		return limit + levels*fp16Err(d) + 1e-6*amax
	}
}

// affineBound is for Q4_1/Q5_1: d = (max-min)/nmax, offset min.
func affineBound(nmax float32) boundFunc {
	return func(block []float32, _ int) float32 {
		lo, hi := minMax(block)
		d := (hi - lo) / nmax
		return 0.5*d + nmax*fp16Err(d) + fp16Err(lo) + 1e-6*max(abs32(lo), abs32(hi))
	}
}

// kBound is for the K-quants, whose scales come from a search rather than a
// formula: at most steps times the sub-block's range/nmax, plus what rounding
// the sub-block's scale to one of scaleLevels multiples of the super-block
// scale costs at the top level (half a multiple, i.e. about the block's
// largest sub-block range / (2*scaleLevels)), plus a floor for fp16
// subnormal super-scales.
func kBound(sub int, nmax, steps, scaleLevels float32) boundFunc {
	return func(block []float32, i int) float32 {
		var maxRange float32
		for s := 0; s < len(block); s += sub {
			lo, hi := minMax(block[s : s+sub])
			maxRange = max(maxRange, max(hi, 0)-min(lo, 0))
		}
		s := i / sub * sub
		lo, hi := minMax(block[s : s+sub])
		lo, hi = min(lo, 0), max(hi, 0)
		return steps*(hi-lo)/nmax + 0.6*maxRange/scaleLevels + 6e-8*nmax*64
	}
}

var roundTripTypes = []struct {
	t     dtype.DType
	bound boundFunc
	rmse  float64 // bound on the gaussian dataset's RMS error (its std is 1)
}{
	{dtype.Q8_0, q8Bound, 0.0060},
	{dtype.Q4_0, symBound(8), 0.095},
	{dtype.Q5_0, symBound(16), 0.048},
	{dtype.Q4_1, affineBound(15), 0.087},
	{dtype.Q5_1, affineBound(31), 0.042},
	{dtype.Q4_K, kBound(32, 15, 1, 63), 0.078},
	{dtype.Q5_K, kBound(32, 31, 1.5, 63), 0.040},
	{dtype.Q6_K, kBound(16, 63, 1, 128), 0.0195},
	{dtype.Q2_K, kBound(16, 3, 1, 15), 0.32},
	{dtype.Q3_K, kBound(16, 7, 1, 32), 0.165},
	{dtype.Q8_K, kBound(256, 254, 0.6, 1), 0.0080},
}

func TestRoundTripBounds(t *testing.T) {
	data := datasets()
	for _, rt := range roundTripTypes {
		for name, x := range data {
			t.Run(rt.t.String()+"/"+name, func(t *testing.T) {
				b, err := Quantize(rt.t, x)
				require.NoError(t, err)
				want, err := rt.t.RowBytes(int64(len(x)))
				require.NoError(t, err)
				require.Len(t, b, int(want))
				y, err := ToFloat32(rt.t, b, len(x))
				require.NoError(t, err)
				bs := rt.t.BlockSize()
				var se float64
				for i := range x {
					blk := x[i/bs*bs : i/bs*bs+bs]
					e := abs32(y[i] - x[i])
					se += float64(e) * float64(e)
					require.LessOrEqual(t, e, rt.bound(blk, i%bs), "element %d: x=%g got %g", i, x[i], y[i])
				}
				if name == "gaussian" {
					require.Less(t, math.Sqrt(se/float64(len(x))), rt.rmse)
				}
				if name == "zeros" {
					require.Equal(t, make([]float32, len(x)), y)
				}
			})
		}
	}
}

func TestQuantizePlainTypes(t *testing.T) {
	x := []float32{0, 1, -2.5, 65504, 1e-8, float32(math.Inf(1)), 3.14159}
	for _, ty := range []dtype.DType{dtype.F32, dtype.F16, dtype.BF16} {
		b, err := Quantize(ty, x)
		require.NoError(t, err)
		y, err := ToFloat32(ty, b, len(x))
		require.NoError(t, err)
		for i, v := range x {
			switch ty {
			case dtype.F32:
				require.Equal(t, v, y[i])
			case dtype.F16:
				require.Equal(t, F16ToF32(F32ToF16(v)), y[i])
			case dtype.BF16:
				require.Equal(t, BF16ToF32(F32ToBF16(v)), y[i])
			}
		}
	}
}

func TestQuantizeErrors(t *testing.T) {
	_, err := Quantize(dtype.Q4_0, make([]float32, 33))
	require.Error(t, err)
	_, err = Quantize(dtype.Q4_K, make([]float32, 128))
	require.Error(t, err)
	_, err = Quantize(dtype.Q3_K, make([]float32, 255))
	require.Error(t, err)
	_, err = Quantize(dtype.I8, make([]float32, 4))
	require.Error(t, err)
	x := make([]float32, 256)
	x[9] = float32(math.NaN())
	_, err = Quantize(dtype.Q6_K, x)
	require.ErrorContains(t, err, "element 9")
	x[9] = float32(math.Inf(-1))
	_, err = Quantize(dtype.Q8_0, x)
	require.Error(t, err)
	b, err := Quantize(dtype.Q8_0, nil)
	require.NoError(t, err)
	require.Empty(t, b)
}

// Exact bytes for inputs whose reference quantization is known by hand,
// including llama.cpp's rounding rules: Q8_0 rounds halves away from zero,
// Q4_0 computes trunc(v/d + 8.5), so halves round up.
func TestQuantizeReferenceRounding(t *testing.T) {
	t.Run("Q8_0", func(t *testing.T) {
		x := make([]float32, 32)
		x[0] = 127 // d = 1
		x[1], x[2], x[3], x[4] = 2.5, -2.5, 0.49, -126.5
		b, err := Quantize(dtype.Q8_0, x)
		require.NoError(t, err)
		require.Equal(t, []byte{0x00, 0x3c}, b[:2])
		require.Equal(t, []int8{127, 3, -3, 0, -127}, []int8{int8(b[2]), int8(b[3]), int8(b[4]), int8(b[5]), int8(b[6])})
	})
	t.Run("Q4_0", func(t *testing.T) {
		x := make([]float32, 32)
		x[0] = -4 // largest magnitude, negative: d = -4/-8 = 0.5
		x[1] = 0.25
		x[2] = -0.25
		x[3] = 3.5
		x[16] = 4 // opposite extreme clamps to level 15 (value 3.5)
		x[17] = 1.75
		b, err := Quantize(dtype.Q4_0, x)
		require.NoError(t, err)
		require.Equal(t, []byte{0x00, 0x38}, b[:2]) // d = 0.5
		// levels: x/d + 8 rounded half up: 0, 9 (0.5 up), 8 (-0.5 up), 15; high nibbles 15, 12 (3.5 up)
		require.Equal(t, byte(0|15<<4), b[2])
		require.Equal(t, byte(9|12<<4), b[3])
		require.Equal(t, byte(8|8<<4), b[4])
		require.Equal(t, byte(15|8<<4), b[5])
	})
	t.Run("Q4_0 positive max gives negative d", func(t *testing.T) {
		x := make([]float32, 32)
		x[5] = 8
		b, err := Quantize(dtype.Q4_0, x)
		require.NoError(t, err)
		require.Equal(t, []byte{0x00, 0xbc}, b[:2]) // d = -1
		y, err := ToFloat32(dtype.Q4_0, b, 32)
		require.NoError(t, err)
		require.Equal(t, float32(8), y[5])
	})
}

func TestDotMatchesDequantize(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n := 512
	x := make([]float32, n)
	w := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		w[i] = float32(r.NormFloat64())
	}
	types := []dtype.DType{dtype.F32, dtype.F16, dtype.BF16}
	for _, rt := range roundTripTypes {
		types = append(types, rt.t)
	}
	for _, ty := range types {
		row, err := Quantize(ty, w)
		require.NoError(t, err)
		dq, err := ToFloat32(ty, row, n)
		require.NoError(t, err)
		var want float32
		for i := range dq {
			want += float32(dq[i] * x[i])
		}
		require.Equal(t, math.Float32bits(want), math.Float32bits(Dot(ty, row, x)), "%v", ty)
	}
	for _, hb := range handBlocks() {
		x := x[:len(hb.want)]
		var want float32
		for i := range x {
			want += float32(hb.want[i] * x[i])
		}
		require.Equal(t, want, Dot(hb.t, hb.data, x), "%v", hb.t)
	}
	row, err := Quantize(dtype.Q4_K, w)
	require.NoError(t, err)
	require.Zero(t, testing.AllocsPerRun(20, func() { Dot(dtype.Q4_K, row, x) }))
}

func TestQuantizeParallelMatchesBlockwise(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	x := make([]float32, 3*parallelMin+256*7) // several workers, uneven split
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, ty := range []dtype.DType{dtype.Q8_0, dtype.Q4_K, dtype.Q6_K} {
		all, err := Quantize(ty, x)
		require.NoError(t, err)
		bs, ts := ty.BlockSize(), ty.TypeSize()
		for _, b := range []int{0, 1, len(x)/bs/2 + 3, len(x)/bs - 1} {
			one, err := Quantize(ty, x[b*bs:(b+1)*bs])
			require.NoError(t, err)
			require.Equal(t, one, all[b*ts:(b+1)*ts], "%v block %d", ty, b)
		}
	}
}
