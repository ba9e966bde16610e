package quant

import (
	"encoding/binary"
	"math"
)

// Reference quantizers for the low-bit K types (quantize_row_q2_K_ref,
// q3_K_ref, q8_K_ref). llama.cpp itself only writes Q2_K/Q3_K in mixes we do
// not offer; these exist so tests and synthetic models can produce every type
// the decoders read.

// packCrumbs stores 2-bit levels the way Q2_K and Q3_K lay them out: element
// 128h+32s+l at bits 2s of qs[32h+l].
func packCrumbs(levels *[256]uint8, qs []byte) {
	for h := 0; h < 2; h++ {
		for l := 0; l < 32; l++ {
			j := 128*h + l
			qs[32*h+l] = levels[j] | levels[j+32]<<2 | levels[j+64]<<4 | levels[j+96]<<6
		}
	}
}

func encodeQ2_K(x []float32, b []byte) {
	var levels [256]uint8
	var laux [16]uint8
	var w [16]float32
	var scales, mins [16]float32
	var maxScale, maxMin float32
	for j := 0; j < 16; j++ {
		xs := x[16*j : 16*j+16]
		for l, v := range xs {
			w[l] = abs32(v)
		}
		scales[j], mins[j] = scaleMinSearch(xs, w[:], 3, levels[16*j:16*j+16], laux[:], -0.5, 0.1, 15, true)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	sc := b[0:16]
	clear(b)
	// Each byte: 4-bit scale (low nibble) and 4-bit min (high) against fp16 d, dmin.
	if maxScale > 0 {
		iscale := 15 / maxScale
		for j := range sc {
			sc[j] = uint8(nearestInt(iscale * scales[j]))
		}
		putF16(b, 80, maxScale/15)
	}
	if maxMin > 0 {
		iscale := 15 / maxMin
		for j := range sc {
			sc[j] |= uint8(nearestInt(iscale*mins[j])) << 4
		}
		putF16(b, 82, maxMin/15)
	}
	d, dmin := f16At(b, 80), f16At(b, 82)
	for j := 0; j < 16; j++ {
		dj := d * float32(sc[j]&0xf)
		if dj == 0 {
			continue
		}
		dm := dmin * float32(sc[j]>>4)
		for i := 16 * j; i < 16*j+16; i++ {
			levels[i] = uint8(clampInt(nearestInt((x[i]+dm)/dj), 0, 3))
		}
	}
	packCrumbs(&levels, b[16:80])
}

// q3Search is llama.cpp's make_q3_quants with rmse: signed levels
// -nmax..nmax-1 from the largest-magnitude element, then up to five passes
// that move single levels while that improves the x^2-weighted fit. Levels
// are written offset by +nmax; it returns the fitted scale.
func q3Search(x []float32, nmax int, l []int8) float32 {
	max, amax := absMaxSigned(x)
	if amax < groupMaxEps {
		clear(l[:len(x)])
		return 0
	}
	iscale := -float32(nmax) / max
	var sumLX, sumL2 float32
	for i, v := range x {
		q := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		l[i] = int8(q)
		w := v * v
		sumLX += float32(w * v * float32(q))
		sumL2 += float32(w * float32(q) * float32(q))
	}
	for try := 0; try < 5; try++ {
		changed := false
		for i, v := range x {
			w := v * v
			old := float32(l[i])
			slx := sumLX - float32(w*v*old)
			if slx <= 0 {
				continue
			}
			sl2 := sumL2 - float32(w*old*old)
			q := clampInt(nearestInt(v*sl2/slx), -nmax, nmax-1)
			if q == int(l[i]) {
				continue
			}
			fq := float32(q)
			slx += float32(w * v * fq)
			sl2 += float32(w * fq * fq)
			if sl2 > 0 && slx*slx*sumL2 > sumLX*sumLX*sl2 {
				l[i] = int8(q)
				sumLX, sumL2 = slx, sl2
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	for i := range x {
		l[i] += int8(nmax)
	}
	if sumL2 > 0 {
		return sumLX / sumL2
	}
	return 0
}

func encodeQ3_K(x []float32, b []byte) {
	var levels [256]int8
	var scales [16]float32
	var maxScale, amax float32
	for j := 0; j < 16; j++ {
		scales[j] = q3Search(x[16*j:16*j+16], 4, levels[16*j:16*j+16])
		if a := abs32(scales[j]); a > amax {
			amax, maxScale = a, scales[j]
		}
	}
	clear(b)
	s := b[96:108]
	if maxScale != 0 {
		iscale := -32 / maxScale
		for j := 0; j < 16; j++ {
			l := uint8(clampInt(int(int8(nearestInt(iscale*scales[j]))), -32, 31) + 32)
			if j < 8 {
				s[j] = l & 0xf
			} else {
				s[j-8] |= (l & 0xf) << 4
			}
			s[8+j%4] |= (l >> 4) << (2 * (j / 4))
		}
		putF16(b, 108, 1/iscale)
	}
	d := f16At(b, 108)
	sc := q3Scales(s)
	for j := 0; j < 16; j++ {
		dj := d * float32(sc[j])
		if dj == 0 {
			continue
		}
		for i := 16 * j; i < 16*j+16; i++ {
			levels[i] = int8(clampInt(nearestInt(x[i]/dj), -4, 3) + 4)
		}
	}
	// The third bit of element j goes to bit j/32 of hmask[j%32].
	var crumbs [256]uint8
	hm := b[0:32]
	for j, v := range levels {
		if v > 3 {
			hm[j%32] |= 1 << (j / 32)
			v -= 4
		}
		crumbs[j] = uint8(v)
	}
	packCrumbs(&crumbs, b[32:96])
}

func encodeQ8_K(x []float32, b []byte) {
	clear(b)
	max, amax := absMaxSigned(x)
	if amax == 0 {
		return
	}
	iscale := -127 / max
	qs := b[4:260]
	for j, v := range x {
		qs[j] = byte(int8(min(127, nearestInt(iscale*v))))
	}
	for j := 0; j < 16; j++ {
		var sum int
		for _, q := range qs[16*j : 16*j+16] {
			sum += int(int8(q))
		}
		binary.LittleEndian.PutUint16(b[260+2*j:], uint16(int16(sum)))
	}
	binary.LittleEndian.PutUint32(b, math.Float32bits(1/iscale))
}
