package quant

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/require"
)

// Hand-built blocks: the bytes are assembled here from the layout as
// ggml-common.h describes it (independently of the encoders), and the
// expected floats come from the dequantization formula of each type. Scales
// are powers of two so every expected value is exact.

const (
	h1      = 0x3c00 // 1.0 as f16
	hHalf   = 0x3800 // 0.5
	hTwo    = 0x4000 // 2.0
	hQuart  = 0x3400 // 0.25
	hMinus1 = 0xbc00 // -1.0
)

func le16(b []byte, i int, v uint16) { binary.LittleEndian.PutUint16(b[i:], v) }

type handBlock struct {
	t    dtype.DType
	data []byte
	want []float32
}

func handBlocks() []handBlock {
	var out []handBlock
	// Random levels: structured patterns risk repeating with the layout's
	// period and hiding swapped nibbles or bits.
	r := rand.New(rand.NewPCG(5, 6))

	{ // Q8_0: d=0.5, q[j] = 3j-50
		b := make([]byte, 34)
		le16(b, 0, hHalf)
		want := make([]float32, 32)
		for j := 0; j < 32; j++ {
			q := int8(3*j - 50)
			b[2+j] = byte(q)
			want[j] = float32(q) * 0.5
		}
		b[2+31] = 0x80 // -128 decodes too
		want[31] = -64
		out = append(out, handBlock{dtype.Q8_0, b, want})
	}
	{ // Q4_0: d=2, element j low nibble of byte j, element j+16 high nibble
		b := make([]byte, 18)
		le16(b, 0, hTwo)
		want := make([]float32, 32)
		for j := 0; j < 16; j++ {
			lo, hi := r.IntN(16), r.IntN(16)
			b[2+j] = byte(lo | hi<<4)
			want[j] = float32(lo-8) * 2
			want[j+16] = float32(hi-8) * 2
		}
		out = append(out, handBlock{dtype.Q4_0, b, want})
	}
	{ // Q4_1: d=0.25, m=-1
		b := make([]byte, 20)
		le16(b, 0, hQuart)
		le16(b, 2, hMinus1)
		want := make([]float32, 32)
		for j := 0; j < 16; j++ {
			lo, hi := r.IntN(16), r.IntN(16)
			b[4+j] = byte(lo | hi<<4)
			want[j] = float32(lo)*0.25 - 1
			want[j+16] = float32(hi)*0.25 - 1
		}
		out = append(out, handBlock{dtype.Q4_1, b, want})
	}
	for _, withMin := range []bool{false, true} { // Q5_0 and Q5_1: fifth bits in a little-endian uint32
		t, off := dtype.Q5_0, 2
		if withMin {
			t, off = dtype.Q5_1, 4
		}
		b := make([]byte, t.TypeSize())
		le16(b, 0, h1)
		if withMin {
			le16(b, 2, hHalf)
		}
		want := make([]float32, 32)
		var qh uint32
		for e := 0; e < 32; e++ {
			q := r.IntN(32)
			if q >= 16 {
				qh |= 1 << e
			}
			byteIdx := off + 4 + e%16
			if e < 16 {
				b[byteIdx] |= byte(q & 15)
			} else {
				b[byteIdx] |= byte(q&15) << 4
			}
			if withMin {
				want[e] = float32(q) + 0.5
			} else {
				want[e] = float32(q - 16)
			}
		}
		binary.LittleEndian.PutUint32(b[off:], qh)
		out = append(out, handBlock{t, b, want})
	}

	// Q4_K / Q5_K: eight sub-blocks with 6-bit scales and mins chosen so that
	// sub-blocks 4..7 need their top two bits.
	sc := [8]int{1, 2, 3, 4, 40, 50, 60, 63}
	mn := [8]int{5, 6, 7, 8, 17, 33, 49, 63}
	packK := func(b []byte) {
		for j := 0; j < 4; j++ {
			b[4+j] = byte(sc[j] | (sc[j+4]>>4)<<6)
			b[8+j] = byte(mn[j] | (mn[j+4]>>4)<<6)
			b[12+j] = byte(sc[j+4]&15 | (mn[j+4]&15)<<4)
		}
	}
	{ // Q4_K: d=0.5, dmin=0.25
		b := make([]byte, 144)
		le16(b, 0, hHalf)
		le16(b, 2, hQuart)
		packK(b)
		want := make([]float32, 256)
		for e := 0; e < 256; e++ {
			q := r.IntN(16)
			c, l := e/64, e%64
			if l < 32 {
				b[16+32*c+l] |= byte(q)
			} else {
				b[16+32*c+l-32] |= byte(q) << 4
			}
			j := e / 32
			want[e] = 0.5*float32(sc[j])*float32(q) - 0.25*float32(mn[j])
		}
		out = append(out, handBlock{dtype.Q4_K, b, want})
	}
	{ // Q5_K: d=1, dmin=0.5; fifth bit of element 64c+l (l<32) is bit 2c of qh[l], of 64c+32+l bit 2c+1
		b := make([]byte, 176)
		le16(b, 0, h1)
		le16(b, 2, hHalf)
		packK(b)
		want := make([]float32, 256)
		for e := 0; e < 256; e++ {
			q := r.IntN(32)
			c, l := e/64, e%64
			bit := 2 * c
			if l >= 32 {
				l -= 32
				bit++
				b[48+32*c+l] |= byte(q&15) << 4
			} else {
				b[48+32*c+l] |= byte(q & 15)
			}
			if q >= 16 {
				b[16+l] |= 1 << bit
			}
			j := e / 32
			want[e] = float32(sc[j])*float32(q) - 0.5*float32(mn[j])
		}
		out = append(out, handBlock{dtype.Q5_K, b, want})
	}
	{ // Q6_K: d=0.5, signed scales, 6-bit levels offset by 32
		b := make([]byte, 210)
		le16(b, 208, hHalf)
		var scales [16]int8
		for i := range scales {
			scales[i] = int8(i*9 - 70)
			b[192+i] = byte(scales[i])
		}
		want := make([]float32, 256)
		for e := 0; e < 256; e++ {
			q := r.IntN(64)
			h, r := e/128, e%128
			k, l := r/32, r%32
			qlIdx := 64*h + l + 32*(k&1)
			if k < 2 {
				b[qlIdx] |= byte(q & 15)
			} else {
				b[qlIdx] |= byte(q&15) << 4
			}
			b[128+32*h+l] |= byte(q>>4) << (2 * k)
			want[e] = 0.5 * float32(scales[e/16]) * float32(q-32)
		}
		out = append(out, handBlock{dtype.Q6_K, b, want})
	}
	{ // Q2_K: scales[16] (low nibble scale, high nibble min), d=0.5, dmin=0.25
		b := make([]byte, 84)
		le16(b, 80, hHalf)
		le16(b, 82, hQuart)
		for i := 0; i < 16; i++ {
			b[i] = byte(i | (15-i)<<4)
		}
		want := make([]float32, 256)
		for e := 0; e < 256; e++ {
			q := r.IntN(4)
			h, s, l := e/128, (e%128)/32, e%32
			b[16+32*h+l] |= byte(q) << (2 * s)
			j := e / 16
			want[e] = 0.5*float32(j)*float32(q) - 0.25*float32(15-j)
		}
		out = append(out, handBlock{dtype.Q2_K, b, want})
	}
	{ // Q3_K: d=0.5, sixteen 6-bit scales (value-32), 3-bit signed levels
		b := make([]byte, 110)
		le16(b, 108, hHalf)
		var sc6 [16]int
		for j := range sc6 {
			sc6[j] = r.IntN(64)
			if j < 8 {
				b[96+j] |= byte(sc6[j] & 15)
			} else {
				b[96+j-8] |= byte(sc6[j]&15) << 4
			}
			b[96+8+j%4] |= byte(sc6[j]>>4) << (2 * (j / 4))
		}
		want := make([]float32, 256)
		for e := 0; e < 256; e++ {
			v := r.IntN(8) - 4
			h, s, l := e/128, (e%128)/32, e%32
			b[32+32*h+l] |= byte(v&3) << (2 * s)
			if v >= 0 {
				b[l] |= 1 << (4*h + s)
			}
			want[e] = 0.5 * float32(sc6[e/16]-32) * float32(v)
		}
		out = append(out, handBlock{dtype.Q3_K, b, want})
	}
	{ // Q8_K: f32 d, int8 levels, int16 block sums (ignored when decoding)
		b := make([]byte, 292)
		binary.LittleEndian.PutUint32(b, math.Float32bits(0.125))
		want := make([]float32, 256)
		for e := 0; e < 256; e++ {
			q := int8(r.IntN(256) - 128)
			b[4+e] = byte(q)
			want[e] = 0.125 * float32(q)
		}
		out = append(out, handBlock{dtype.Q8_K, b, want})
	}
	{ // plain types
		vals := []float32{1, -2.5, 0.333251953125, 65504}
		f32 := make([]byte, 16)
		f16 := make([]byte, 8)
		bf := make([]byte, 8)
		for i, v := range vals {
			binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(v))
		}
		for i, h := range []uint16{0x3c00, 0xc100, 0x3555, 0x7bff} {
			le16(f16, 2*i, h)
		}
		bfVals := []float32{1, -2.5, 0.33203125, 65536}
		for i, h := range []uint16{0x3f80, 0xc020, 0x3eaa, 0x4780} {
			le16(bf, 2*i, h)
		}
		out = append(out, handBlock{dtype.F32, f32, vals}, handBlock{dtype.F16, f16, vals}, handBlock{dtype.BF16, bf, bfVals})
	}
	return out
}

func TestDequantizeHandBuiltBlocks(t *testing.T) {
	for _, hb := range handBlocks() {
		t.Run(hb.t.String(), func(t *testing.T) {
			n := len(hb.want)
			got := make([]float32, n)
			require.NoError(t, Dequantize(hb.t, hb.data, got))
			for i := range got {
				require.Equal(t, hb.want[i], got[i], "element %d", i)
			}
			// Two blocks in a row decode independently.
			two := append(append([]byte{}, hb.data...), hb.data...)
			got2, err := ToFloat32(hb.t, two, 2*n)
			require.NoError(t, err)
			require.Equal(t, hb.want, got2[:n])
			require.Equal(t, hb.want, got2[n:])
		})
	}
}

func TestDequantizeSizeErrors(t *testing.T) {
	cases := []struct {
		name string
		t    dtype.DType
		src  int
		n    int
	}{
		{"Q4_0 short", dtype.Q4_0, 17, 32},
		{"Q4_0 long", dtype.Q4_0, 19, 32},
		{"Q4_K partial block", dtype.Q4_K, 144, 128},
		{"Q6_K two blocks but one given", dtype.Q6_K, 210, 512},
		{"F16 odd bytes", dtype.F16, 7, 4},
		{"F32 mismatch", dtype.F32, 12, 4},
		{"unsupported type", dtype.I32, 16, 4},
		{"unknown type", dtype.DType(99), 16, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Dequantize(c.t, make([]byte, c.src), make([]float32, c.n))
			require.Error(t, err)
			_, err = ToFloat32(c.t, make([]byte, c.src), c.n)
			require.Error(t, err)
			require.Panics(t, func() { Dot(c.t, make([]byte, c.src), make([]float32, c.n)) })
		})
	}
	_, err := ToFloat32(dtype.F32, nil, -1)
	require.Error(t, err)
}
