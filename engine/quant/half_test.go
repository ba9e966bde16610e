package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/x448/float16"
)

func TestF16ToF32AllPatterns(t *testing.T) {
	// Exhaustive against an independent implementation.
	for h := 0; h < 1<<16; h++ {
		got := F16ToF32(uint16(h))
		want := float16.Frombits(uint16(h)).Float32()
		if math.IsNaN(float64(want)) {
			require.True(t, math.IsNaN(float64(got)), "h=%#04x", h)
			continue
		}
		require.Equal(t, math.Float32bits(want), math.Float32bits(got), "h=%#04x", h)
	}
}

func TestF32ToF16Edges(t *testing.T) {
	cases := []struct {
		name string
		in   float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"max half", 65504, 0x7bff},
		{"rounds down below inf", 65519.996, 0x7bff},
		{"rounds up to inf", 65520, 0x7c00},
		{"overflow", 1e6, 0x7c00},
		{"inf", float32(math.Inf(1)), 0x7c00},
		{"-inf", float32(math.Inf(-1)), 0xfc00},
		{"smallest normal", 6.103515625e-05, 0x0400},
		{"largest subnormal", 6.097555160522461e-05, 0x03ff},
		{"smallest subnormal", 5.960464477539063e-08, 0x0001},
		{"half of smallest subnormal ties to zero", 2.9802322387695312e-08, 0x0000},
		{"just above half of smallest subnormal", math.Nextafter32(2.9802322387695312e-08, 1), 0x0001},
		{"1.5 subnormal steps ties to even (2)", 8.940696716308594e-08, 0x0002},
		{"tie to even down", 1 + 1.0/2048, 0x3c00},
		{"tie to even up", 1 + 3.0/2048, 0x3c02},
		{"above tie", math.Nextafter32(1+1.0/2048, 2), 0x3c01},
		{"subnormal carries into normal", 6.1020255e-05, 0x0400},
		{"tiny underflow", 1e-10, 0x0000},
		{"negative tiny underflow", -1e-10, 0x8000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, F32ToF16(c.in), "%g", c.in)
			assert.Equal(t, float16.Fromfloat32(c.in).Bits(), F32ToF16(c.in), "oracle disagrees for %g", c.in)
		})
	}
	nan := F32ToF16(float32(math.NaN()))
	assert.True(t, math.IsNaN(float64(F16ToF32(nan))))
	// A signalling NaN whose payload sits only in the low bits must stay NaN.
	snan := F32ToF16(math.Float32frombits(0x7f800001))
	assert.True(t, math.IsNaN(float64(F16ToF32(snan))))
}

func TestF32ToF16RandomAgainstOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(bits uint32) {
		f := math.Float32frombits(bits)
		got := F32ToF16(f)
		if math.IsNaN(float64(f)) {
			require.True(t, math.IsNaN(float64(F16ToF32(got))), "bits %#08x", bits)
			return
		}
		require.Equal(t, float16.Fromfloat32(f).Bits(), got, "bits %#08x (%g)", bits, f)
	}
	for i := 0; i < 300000; i++ {
		check(r.Uint32())
	}
	// Dense sweep of the exponents where half precision changes behaviour
	// (subnormals, the normal range and overflow), all signs and both tie cases.
	for exp := uint32(100); exp <= 145; exp++ {
		for i := 0; i < 4000; i++ {
			m := r.Uint32() & 0x7fffff
			if i%4 == 0 {
				m = m&^0x1fff | 0x1000 // exact tie for normal halves
			}
			check(exp<<23 | m | uint32(i&1)<<31)
		}
	}
	// Round trip of every finite half through float32.
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if !math.IsNaN(float64(f)) {
			require.Equal(t, uint16(h), F32ToF16(f))
		}
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		name string
		in   uint32
		want uint16
	}{
		{"one", 0x3f800000, 0x3f80},
		{"tie stays even", 0x3f808000, 0x3f80},
		{"tie rounds up to even", 0x3f818000, 0x3f82},
		{"above tie", 0x3f808001, 0x3f81},
		{"below tie", 0x3f807fff, 0x3f80},
		{"negative", 0xbf80c000, 0xbf81},
		{"max float rounds to inf", 0x7f7fffff, 0x7f80},
		{"inf", 0x7f800000, 0x7f80},
		{"-inf", 0xff800000, 0xff80},
		{"quiet nan", 0x7fc00000, 0x7fc0},
		{"signalling nan is quieted", 0x7f800001, 0x7fc0},
		{"nan payload kept", 0xff812345, 0xffc1},
		{"subnormal rounds (not flushed)", 0x00018000, 0x0002},
		{"subnormal tie to zero", 0x00008000, 0x0000},
		{"negative zero", 0x80000000, 0x8000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, F32ToBF16(math.Float32frombits(c.in)))
		})
	}
	for h := 0; h < 1<<16; h++ {
		f := BF16ToF32(uint16(h))
		require.Equal(t, uint32(h)<<16, math.Float32bits(f))
		if !math.IsNaN(float64(f)) {
			require.Equal(t, uint16(h), F32ToBF16(f))
		}
	}
}
