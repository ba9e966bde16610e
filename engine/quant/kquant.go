package quant

// Q4_K and Q5_K: 256-element super-blocks of eight 32-element sub-blocks,
// each with a 6-bit scale and a 6-bit min relative to the super-block's fp16
// d and dmin. value = d*sc*q - dmin*m (the min is subtracted).
//
//	Q4_K: d f16 | dmin f16 | scales[12] | qs[128]
//	Q5_K: d f16 | dmin f16 | scales[12] | qh[32] | qs[128]
//
// scales[12] packs sc[0..7] and m[0..7] (see scaleMin). qs holds 64-element
// chunks as 32 bytes: element c*64+l in the low nibble of byte c*32+l and
// element c*64+32+l in its high nibble. In Q5_K the fifth bit of element
// c*64+l is bit 2c of qh[l] and of element c*64+32+l bit 2c+1.

// scaleMin unpacks sub-block j's 6-bit scale and min (ggml's get_scale_min_k4):
// bytes 0-3 hold sc[0..3] in their low 6 bits, bytes 4-7 m[0..3]; sub-blocks
// 4-7 keep their low 4 bits in the nibbles of bytes 8-11 and their top 2 bits
// in the spare top bits of bytes 0-7.
func scaleMin(j int, s []byte) (sc, m uint8) {
	if j < 4 {
		return s[j] & 63, s[j+4] & 63
	}
	return s[j+4]&0xf | (s[j-4]>>6)<<4, s[j+4]>>4 | (s[j]>>6)<<4
}

// packScaleMin is scaleMin's inverse; s must start zeroed.
func packScaleMin(j int, sc, m uint8, s []byte) {
	if j < 4 {
		s[j] = sc
		s[j+4] = m
		return
	}
	s[j+4] = sc&0xf | (m&0xf)<<4
	s[j-4] |= (sc >> 4) << 6
	s[j] |= (m >> 4) << 6
}

func decodeQ4_K(b []byte, y []float32) {
	d, dmin := f16At(b, 0), f16At(b, 2)
	s := b[4:16]
	qs := b[16:144]
	for c := 0; c < 4; c++ {
		sc1, m1 := scaleMin(2*c, s)
		sc2, m2 := scaleMin(2*c+1, s)
		d1, o1 := d*float32(sc1), dmin*float32(m1)
		d2, o2 := d*float32(sc2), dmin*float32(m2)
		q := qs[32*c : 32*c+32]
		out := y[64*c : 64*c+64]
		for l := 0; l < 32; l++ {
			out[l] = float32(d1*float32(q[l]&0xf)) - o1
			out[l+32] = float32(d2*float32(q[l]>>4)) - o2
		}
	}
}

func decodeQ5_K(b []byte, y []float32) {
	d, dmin := f16At(b, 0), f16At(b, 2)
	s := b[4:16]
	qh := b[16:48]
	qs := b[48:176]
	for c := 0; c < 4; c++ {
		sc1, m1 := scaleMin(2*c, s)
		sc2, m2 := scaleMin(2*c+1, s)
		d1, o1 := d*float32(sc1), dmin*float32(m1)
		d2, o2 := d*float32(sc2), dmin*float32(m2)
		q := qs[32*c : 32*c+32]
		out := y[64*c : 64*c+64]
		for l := 0; l < 32; l++ {
			h := qh[l] >> (2 * c)
			out[l] = float32(d1*float32(q[l]&0xf|(h&1)<<4)) - o1
			out[l+32] = float32(d2*float32(q[l]>>4|(h>>1&1)<<4)) - o2
		}
	}
}

// encodeScaleMinBlock runs the Q4_K/Q5_K reference quantizer on one
// super-block: per sub-block weighted scale/min search, 6-bit packing of the
// scales and mins against fp16 d and dmin. It writes d, dmin and the 12
// scale bytes (b[0:16]) and the search's levels; the caller requantizes the
// elements against the scales as they will be decoded.
func encodeScaleMinBlock(x []float32, b []byte, nmax int, rmin float32, nstep int, levels *[256]uint8) {
	var laux [32]uint8
	var w [32]float32
	var scales, mins [8]float32
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		av := sqrt32(sumX2 / 32)
		for l, v := range xs {
			w[l] = av + abs32(v)
		}
		scales[j], mins[j] = scaleMinSearch(xs, w[:], nmax, levels[32*j:32*j+32], laux[:], rmin, 0.1, nstep, false)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	s := b[4:16]
	clear(s)
	for j := 0; j < 8; j++ {
		ls := uint8(min(63, nearestInt(invScale*scales[j])))
		lm := uint8(min(63, nearestInt(invMin*mins[j])))
		packScaleMin(j, ls, lm, s)
	}
	putF16(b, 0, maxScale/63)
	putF16(b, 2, maxMin/63)
}

func encodeQ4_K(x []float32, b []byte) { encodeKMin(x, b, 15) }
func encodeQ5_K(x []float32, b []byte) { encodeKMin(x, b, 31) }

// encodeKMin quantizes one Q4_K (nmax 15) or Q5_K (nmax 31) super-block.
func encodeKMin(x []float32, b []byte, nmax int) {
	var levels [256]uint8
	rmin, nstep := float32(-1), 20 // Q4_K's search; Q5_K uses a narrower one
	if nmax == 31 {
		rmin, nstep = -0.5, 15
	}
	encodeScaleMinBlock(x, b, nmax, rmin, nstep, &levels)
	d, dmin := f16At(b, 0), f16At(b, 2)
	for j := 0; j < 8; j++ {
		sc, m := scaleMin(j, b[4:16])
		dj := d * float32(sc)
		if dj == 0 {
			continue
		}
		dm := dmin * float32(m)
		for i := 32 * j; i < 32*j+32; i++ {
			levels[i] = uint8(clampInt(nearestInt((x[i]+dm)/dj), 0, nmax))
		}
	}
	if nmax == 15 {
		qs := b[16:144]
		for c := 0; c < 4; c++ {
			for l := 0; l < 32; l++ {
				qs[32*c+l] = levels[64*c+l] | levels[64*c+32+l]<<4
			}
		}
		return
	}
	qh := b[16:48]
	qs := b[48:176]
	clear(qh)
	for c := 0; c < 4; c++ {
		for l := 0; l < 32; l++ {
			lo, hi := levels[64*c+l], levels[64*c+32+l]
			qh[l] |= (lo>>4)<<(2*c) | (hi>>4)<<(2*c+1)
			qs[32*c+l] = lo&0xf | (hi&0xf)<<4
		}
	}
}
