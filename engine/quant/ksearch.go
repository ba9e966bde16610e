package quant

import "math"

// Helpers shared by the K-quant encoders: llama.cpp's nearest_int and its
// weighted searches for a sub-block's scale (and min).
//
// Products are wrapped in float32() wherever a sum follows, so no platform
// fuses them into FMAs: the bytes are the same everywhere and match
// llama.cpp's reference build (which has no FMA contraction).

// nearestInt rounds to the nearest integer, ties to even, exactly like
// ggml's nearest_int (adding 1.5*2^23 in float32 and reading the mantissa);
// valid for |f| <= 4194303, which every caller guarantees.
func nearestInt(f float32) int {
	v := f + 12582912
	return int(math.Float32bits(v)&0x7fffff) - 0x400000
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }

// scaleMinSearch finds scale s and min m for x (levels 0..nmax) minimising
// sum w*(s*L + m - x)^2, with m <= 0 (llama.cpp's make_qkx2_quants): start
// from the plain min/max fit, then try nstep+1 slightly different initial
// scales, each refined by a weighted least-squares fit of scale and min to the
// levels it produced, keeping the best. It writes the levels to l and returns
// the scale and -m (a non-negative offset that is subtracted on decode).
// With mad the error is sum w*|s*L + m - x| instead (Q2_K).
func scaleMinSearch(x, w []float32, nmax int, l, laux []uint8, rmin, rdelta float32, nstep int, mad bool) (scale, negMin float32) {

	n := len(x)
	lo, hi := x[0], x[0]
	sumW := w[0]
	sumX := sumW * x[0]
	for i := 1; i < n; i++ {
		lo = min(lo, x[i])
		hi = max(hi, x[i])
		sumW += w[i]
		sumX += float32(w[i] * x[i])
	}
	lo = min(lo, 0)
	if hi == lo {
		clear(l[:n])
		return 0, -lo
	}
	iscale := float32(nmax) / (hi - lo)
	scale = 1 / iscale
	var bestErr float32
	for i := 0; i < n; i++ {
		q := clampInt(nearestInt(iscale*(x[i]-lo)), 0, nmax)
		l[i] = uint8(q)
		bestErr += float32(w[i] * loss(float32(scale*float32(q))+lo-x[i], mad))
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + float32(rdelta*float32(is)) + float32(nmax)) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i := 0; i < n; i++ {
			q := clampInt(nearestInt(iscale*(x[i]-lo)), 0, nmax)
			laux[i] = uint8(q)
			fq := float32(q)
			sumL += float32(w[i] * fq)
			sumL2 += float32(w[i] * fq * fq)
			sumXL += float32(w[i] * fq * x[i])
		}
		det := float32(sumW*sumL2) - float32(sumL*sumL)
		if det <= 0 {
			continue
		}
		thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / det
		thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / det
		if thisMin > 0 {
			thisMin = 0
			thisScale = sumXL / sumL2
		}
		var cur float32
		for i := 0; i < n; i++ {
			cur += float32(w[i] * loss(float32(thisScale*float32(laux[i]))+thisMin-x[i], mad))
		}
		if cur < bestErr {
			copy(l[:n], laux[:n])
			bestErr = cur
			scale = thisScale
			lo = thisMin
		}
	}
	return scale, -lo
}

// loss is the fit's per-element error: absolute (mad) or squared.
func loss(diff float32, mad bool) float32 {
	if mad {
		return abs32(diff)
	}
	return diff * diff
}

// groupMaxEps is ggml's GROUP_MAX_EPS: groups whose largest magnitude is
// below it are treated as all zero.
const groupMaxEps = 1e-15

// symScaleSearch finds a signed scale for x with levels -nmax..nmax-1
// (llama.cpp's make_qx_quants with rmse_type 1, i.e. weights x^2): the
// largest-magnitude element maps to -nmax, then 18 nearby scales are tried
// and the one maximising (sum w x l)^2 / sum w l^2 wins. Levels are written
// to l offset by +nmax.
func symScaleSearch(x []float32, nmax int, l []int8) float32 {
	max, amax := absMaxSigned(x)
	if amax < groupMaxEps {
		clear(l[:len(x)])
		return 0
	}
	fit := func(iscale float32) (sumLX, sumL2 float32) {
		for _, v := range x {
			q := float32(clampInt(nearestInt(iscale*v), -nmax, nmax-1))
			w := v * v
			sumLX += float32(w * v * q)
			sumL2 += float32(w * q * q)
		}
		return sumLX, sumL2
	}
	store := func(iscale float32) {
		for i, v := range x {
			l[i] = int8(nmax + clampInt(nearestInt(iscale*v), -nmax, nmax-1))
		}
	}
	iscale := -float32(nmax) / max
	sumLX, sumL2 := fit(iscale)
	store(iscale)
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := scale * sumLX
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(float32(nmax) + float32(0.1*float32(is))) / max
		sumLX, sumL2 = fit(iscale)
		if sumL2 > 0 && sumLX*sumLX > best*sumL2 {
			store(iscale)
			scale = sumLX / sumL2
			best = scale * sumLX
		}
	}
	return scale
}
