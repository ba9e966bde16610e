package quant

import (
	"encoding/binary"
	"math"
)

// Read-only K types found in GGUF files in the wild.
//
//	Q2_K: scales[16] | qs[64] | d f16 | dmin f16
//	      value = d*(sc&15)*q - dmin*(sc>>4), q a 2-bit level
//	Q3_K: hmask[32] | qs[64] | scales[12] | d f16
//	      value = d*(sc-32)*(q - (high bit clear ? 4 : 0)), sc a 6-bit scale
//	Q8_K: d f32 | qs[256] int8 | bsums[16] int16 (bsums only speed up dot products)
//
// Q2_K and Q3_K order elements in 128-element halves: within half h, shift
// s = 0..3 selects bits 2s..2s+1 of qs[32h+l], giving elements 128h+32s+l
// (l = 0..31), whose sub-block scale is index 8h+2s+l/16. Q3_K's high bit of
// element 128h+32s+l is bit 4h+s of hmask[l].

func decodeQ2_K(b []byte, y []float32) {
	d, dmin := f16At(b, 80), f16At(b, 82)
	sc := b[0:16]
	for h := 0; h < 2; h++ {
		q := b[16+32*h : 16+32*h+32]
		for s := 0; s < 4; s++ {
			for half := 0; half < 2; half++ {
				k := sc[8*h+2*s+half]
				dl, ml := d*float32(k&0xf), dmin*float32(k>>4)
				out := y[128*h+32*s+16*half:]
				qq := q[16*half : 16*half+16]
				for l := 0; l < 16; l++ {
					out[l] = float32(dl*float32(qq[l]>>(2*s)&3)) - ml
				}
			}
		}
	}
}

// q3Scales unpacks Q3_K's twelve scale bytes into sixteen 6-bit scales:
// bytes 0-7 give the low 4 bits (scale j in byte j%8, low nibble for j < 8,
// high nibble for j >= 8) and bytes 8-11 the top 2 bits (scale j at bits
// 2*(j/4) of byte 8+j%4).
func q3Scales(s []byte) (out [16]int) {
	for j := 0; j < 16; j++ {
		lo := s[j%8] & 0xf
		if j >= 8 {
			lo = s[j%8] >> 4
		}
		hi := s[8+j%4] >> (2 * (j / 4)) & 3
		out[j] = int(lo|hi<<4) - 32
	}
	return out
}

func decodeQ3_K(b []byte, y []float32) {
	hm := b[0:32]
	d := f16At(b, 108)
	sc := q3Scales(b[96:108])
	for h := 0; h < 2; h++ {
		q := b[32+32*h : 32+32*h+32]
		for s := 0; s < 4; s++ {
			m := uint8(1) << (4*h + s)
			for half := 0; half < 2; half++ {
				dl := d * float32(sc[8*h+2*s+half])
				out := y[128*h+32*s+16*half:]
				for l := 0; l < 16; l++ {
					i := 16*half + l
					v := int(q[i] >> (2 * s) & 3)
					if hm[i]&m == 0 {
						v -= 4
					}
					out[l] = dl * float32(v)
				}
			}
		}
	}
}

func decodeQ8_K(b []byte, y []float32) {
	d := math.Float32frombits(binary.LittleEndian.Uint32(b))
	for j := 0; j < 256; j++ {
		y[j] = d * float32(int8(b[4+j]))
	}
}
