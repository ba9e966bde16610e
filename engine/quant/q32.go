package quant

import (
	"encoding/binary"
	"math"
)

// The 32-element block types. Byte layouts (ggml-common.h):
//
//	Q4_0: d f16 | qs[16]            value = (nibble-8)*d
//	Q4_1: d f16 | m f16 | qs[16]    value = nibble*d + m
//	Q5_0: d f16 | qh[4] | qs[16]    value = (nibble|bit<<4 - 16)*d
//	Q5_1: d f16 | m f16 | qh[4] | qs[16]  value = (nibble|bit<<4)*d + m
//	Q8_0: d f16 | qs[32] int8       value = q*d
//
// In the 4-bit types byte j holds element j in its low nibble and element
// j+16 in its high nibble; the fifth bits of elements 0..31 are bits 0..31 of
// the little-endian uint32 qh.

func decodeQ4_0(b []byte, y []float32) {
	d := f16At(b, 0)
	qs := b[2:18]
	for j := 0; j < 16; j++ {
		y[j] = float32(int(qs[j]&0xf)-8) * d
		y[j+16] = float32(int(qs[j]>>4)-8) * d
	}
}

func decodeQ4_1(b []byte, y []float32) {
	d, m := f16At(b, 0), f16At(b, 2)
	qs := b[4:20]
	for j := 0; j < 16; j++ {
		y[j] = float32(float32(qs[j]&0xf)*d) + m
		y[j+16] = float32(float32(qs[j]>>4)*d) + m
	}
}

func decodeQ5_0(b []byte, y []float32) {
	d := f16At(b, 0)
	qh := binary.LittleEndian.Uint32(b[2:])
	qs := b[6:22]
	for j := 0; j < 16; j++ {
		h0 := int(qh>>j&1) << 4
		h1 := int(qh>>(j+16)&1) << 4
		y[j] = float32(int(qs[j]&0xf)|h0-16) * d
		y[j+16] = float32(int(qs[j]>>4)|h1-16) * d
	}
}

func decodeQ5_1(b []byte, y []float32) {
	d, m := f16At(b, 0), f16At(b, 2)
	qh := binary.LittleEndian.Uint32(b[4:])
	qs := b[8:24]
	for j := 0; j < 16; j++ {
		h0 := int(qh>>j&1) << 4
		h1 := int(qh>>(j+16)&1) << 4
		y[j] = float32(float32(int(qs[j]&0xf)|h0)*d) + m
		y[j+16] = float32(float32(int(qs[j]>>4)|h1)*d) + m
	}
}

func decodeQ8_0(b []byte, y []float32) {
	d := f16At(b, 0)
	for j := 0; j < 32; j++ {
		y[j] = float32(int8(b[2+j])) * d
	}
}

// absMaxSigned returns the element of largest magnitude (the first one on
// ties) and its magnitude, as the reference quantizers pick it.
func absMaxSigned(x []float32) (max, amax float32) {
	for _, v := range x {
		if a := abs32(v); amax < a {
			amax, max = a, v
		}
	}
	return max, amax
}

func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	return lo, hi
}

// recip returns 1/d, or 0 for d == 0, as the reference quantizers do.
func recip(d float32) float32 {
	if d == 0 {
		return 0
	}
	return 1 / d
}

func encodeQ4_0(x []float32, b []byte) {
	max, _ := absMaxSigned(x)
	// The largest-magnitude element maps to -8, so the full range [-8, 7] is used.
	d := max / -8
	id := recip(d)
	putF16(b, 0, d)
	for j := 0; j < 16; j++ {
		// Truncation of (v + 8.5) is round-half-up of v + 8, as in the reference.
		q0 := min(15, uint8(int8(float32(x[j]*id)+8.5)))
		q1 := min(15, uint8(int8(float32(x[j+16]*id)+8.5)))
		b[2+j] = q0 | q1<<4
	}
}

func encodeQ4_1(x []float32, b []byte) {
	lo, hi := minMax(x)
	d := (hi - lo) / 15
	id := recip(d)
	putF16(b, 0, d)
	putF16(b, 2, lo)
	for j := 0; j < 16; j++ {
		q0 := min(15, uint8(int8(float32((x[j]-lo)*id)+0.5)))
		q1 := min(15, uint8(int8(float32((x[j+16]-lo)*id)+0.5)))
		b[4+j] = q0 | q1<<4
	}
}

func encodeQ5_0(x []float32, b []byte) {
	max, _ := absMaxSigned(x)
	d := max / -16
	id := recip(d)
	putF16(b, 0, d)
	var qh uint32
	for j := 0; j < 16; j++ {
		q0 := min(31, uint8(int8(float32(x[j]*id)+16.5)))
		q1 := min(31, uint8(int8(float32(x[j+16]*id)+16.5)))
		b[6+j] = q0&0xf | (q1&0xf)<<4
		qh |= uint32(q0>>4) << j
		qh |= uint32(q1>>4) << (j + 16)
	}
	binary.LittleEndian.PutUint32(b[2:], qh)
}

func encodeQ5_1(x []float32, b []byte) {
	lo, hi := minMax(x)
	d := (hi - lo) / 31
	id := recip(d)
	putF16(b, 0, d)
	putF16(b, 2, lo)
	var qh uint32
	for j := 0; j < 16; j++ {
		// The reference casts straight to uint8 (values lie in [0, 31.5)); clamp
		// anyway so rounding at the top can never spill into a sixth bit.
		q0 := min(31, uint8(float32((x[j]-lo)*id)+0.5))
		q1 := min(31, uint8(float32((x[j+16]-lo)*id)+0.5))
		b[8+j] = q0&0xf | (q1&0xf)<<4
		qh |= uint32(q0>>4) << j
		qh |= uint32(q1>>4) << (j + 16)
	}
	binary.LittleEndian.PutUint32(b[4:], qh)
}

func encodeQ8_0(x []float32, b []byte) {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	d := amax / 127
	id := recip(d)
	putF16(b, 0, d)
	for j := 0; j < 32; j++ {
		// roundf: half away from zero.
		b[2+j] = byte(int8(math.Round(float64(x[j] * id))))
	}
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }
