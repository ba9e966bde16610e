package ref

import (
	"math"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/quant"
)

// vecDotType is the type llama.cpp's CPU backend converts activations to
// before multiplying them by weights of type t (ggml type_traits_cpu
// vec_dot_type).
func vecDotType(t dtype.DType) dtype.DType {
	switch t {
	case dtype.Q4_0, dtype.Q4_1, dtype.Q5_0, dtype.Q5_1, dtype.Q8_0:
		return dtype.Q8_0
	case dtype.Q2_K, dtype.Q3_K, dtype.Q4_K, dtype.Q5_K, dtype.Q6_K:
		return dtype.Q8_K
	case dtype.F16, dtype.BF16:
		return t
	}
	return dtype.F32
}

// activations returns x (rows of n) as llama.cpp would see it for a matmul
// by a weight of type w: x itself, or x rounded through w's vec-dot type.
func (be *Backend) activations(x []float32, n int, w dtype.DType) []float32 {
	t := vecDotType(w)
	if !be.llamaCpp || t == dtype.F32 {
		return x
	}
	out := make([]float32, len(x))
	for r := 0; r+n <= len(x); r += n {
		b, err := quant.Quantize(t, x[r:r+n])
		if err != nil {
			panic("ref: " + err.Error())
		}
		if err := quant.Dequantize(t, b, out[r:r+n]); err != nil {
			panic("ref: " + err.Error())
		}
	}
	return out
}

// geluF16 is ggml's table GELU: f16(gelu(f16(x))), exact outside ±10.
func geluF16(x float32) float32 {
	switch {
	case x <= -10:
		return 0
	case x >= 10:
		return x
	}
	v := float64(quant.F16ToF32(quant.F32ToF16(x)))
	g := float32(0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))))
	return quant.F16ToF32(quant.F32ToF16(g))
}

func roundF16(x []float32) {
	for i, v := range x {
		x[i] = quant.F16ToF32(quant.F32ToF16(v))
	}
}

// attendFlashF16 attends like llama.cpp's CPU flash attention over an F16
// KV cache (its default context): q rounded to f16, one pass over the keys
// with a running maximum, and the weighted sum of v kept in an f16 vector
// that is rounded after every update (rescale on a new maximum, then add
// v·weight); the normalizer is an f32 sum.
func attendFlashF16(o, qv []float32, c *kv, slot, kvh, first, last int, p arch.AttnParams) {
	q16 := append([]float32(nil), qv...)
	roundF16(q16)
	acc := make([]float32, len(o))
	maxS := float32(math.Inf(-1))
	var sum float32
	for kp := first; kp <= last; kp++ {
		s := dot(q16, c.k[c.at(slot, kp, kvh):]) * p.Scale
		if p.Softcap > 0 {
			s = softcap(s, p.Softcap)
		}
		ms, vs := float32(1), float32(1)
		if s > maxS {
			old := maxS
			maxS = s
			ms = float32(math.Exp(float64(old - maxS)))
			for d := range acc {
				acc[d] = quant.F16ToF32(quant.F32ToF16(acc[d] * ms))
			}
		} else {
			vs = float32(math.Exp(float64(s - maxS)))
		}
		vv := c.v[c.at(slot, kp, kvh):]
		for d := range acc {
			acc[d] = quant.F16ToF32(quant.F32ToF16(acc[d] + vv[d]*vs))
		}
		sum = sum*ms + vs
	}
	for d := range acc {
		o[d] = acc[d] / sum
	}
}
