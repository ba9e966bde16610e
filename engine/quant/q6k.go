package quant

// Q6_K: 256-element super-blocks of sixteen 16-element sub-blocks, each with
// a signed 8-bit scale; value = d*sc*(q-32), q a 6-bit level.
//
//	ql[128] | qh[64] | scales[16] int8 | d f16
//
// Each 128-element half h uses ql[64h:64h+64] and qh[32h:32h+32]. For
// l in 0..31, element 128h+l+32k (k = 0..3) has its low 4 bits in
// ql[64h+l+32(k&1)] (low nibble for k < 2, high nibble for k >= 2) and its
// top 2 bits at bit 2k of qh[32h+l]. Sub-block scale index = element/16.

func decodeQ6_K(b []byte, y []float32) {
	d := f16At(b, 208)
	for h := 0; h < 2; h++ {
		ql := b[64*h : 64*h+64]
		qh := b[128+32*h : 128+32*h+32]
		sc := b[192+8*h : 192+8*h+8]
		out := y[128*h : 128*h+128]
		for l := 0; l < 32; l++ {
			is := l / 16
			q1 := int(ql[l]&0xf|(qh[l]&3)<<4) - 32
			q2 := int(ql[l+32]&0xf|(qh[l]>>2&3)<<4) - 32
			q3 := int(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			q4 := int(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
			out[l] = d * float32(int8(sc[is])) * float32(q1)
			out[l+32] = d * float32(int8(sc[is+2])) * float32(q2)
			out[l+64] = d * float32(int8(sc[is+4])) * float32(q3)
			out[l+96] = d * float32(int8(sc[is+6])) * float32(q4)
		}
	}
}

func encodeQ6_K(x []float32, b []byte) {
	var levels [256]int8
	var scales [16]float32
	var maxScale, maxAbs float32
	for ib := 0; ib < 16; ib++ {
		scales[ib] = symScaleSearch(x[16*ib:16*ib+16], 32, levels[16*ib:16*ib+16])
		if a := abs32(scales[ib]); a > maxAbs {
			maxAbs, maxScale = a, scales[ib]
		}
	}
	clear(b[:210])
	if maxAbs < groupMaxEps {
		return // all zero: d = 0 and every byte zero
	}
	// The largest sub-block scale maps to -128, so the signed 8-bit scales use
	// their full range; its sign makes every element of that sub-block decode
	// with the right sign.
	iscale := -128 / maxScale
	putF16(b, 208, 1/iscale)
	sc := b[192:208]
	for ib := 0; ib < 16; ib++ {
		sc[ib] = byte(int8(min(127, nearestInt(iscale*scales[ib]))))
	}
	d := f16At(b, 208)
	for j := 0; j < 16; j++ {
		dj := d * float32(int8(sc[j]))
		if dj == 0 {
			continue
		}
		for i := 16 * j; i < 16*j+16; i++ {
			levels[i] = int8(clampInt(nearestInt(x[i]/dj), -32, 31) + 32)
		}
	}
	for h := 0; h < 2; h++ {
		ql := b[64*h : 64*h+64]
		qh := b[128+32*h : 128+32*h+32]
		L := levels[128*h : 128*h+128]
		for l := 0; l < 32; l++ {
			q1, q2, q3, q4 := uint8(L[l]), uint8(L[l+32]), uint8(L[l+64]), uint8(L[l+96])
			ql[l] = q1&0xf | (q3&0xf)<<4
			ql[l+32] = q2&0xf | (q4&0xf)<<4
			qh[l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
		}
	}
}
