package arch

import (
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/quant"
)

// base is what every architecture embeds: its config, the dtype HF-emulated
// constants are rounded to (F32: exact) and each layer's RoPE frequency
// divisors (nil entries rotate with the plain base^(-2i/d)).
type base struct {
	cfg   *model.Config
	round dtype.DType
	freqs []Tensor
}

func (b *base) Config() *model.Config { return b.cfg }

func (b *base) ropeFreqs(layer int) Tensor {
	if b.freqs == nil {
		return nil
	}
	return b.freqs[layer]
}

func (b *base) setBase(f []Tensor, round dtype.DType) { b.freqs, b.round = f, round }

// embedScale is Gemma's sqrt(hidden) embedding normalizer: exact float32
// (as llama.cpp computes it), or rounded like HF transformers (Options).
func (b *base) embedScale() float32 {
	s := float32(b.cfg.EmbedScale)
	if s == 0 {
		s = sqrt32(float32(b.cfg.Hidden))
	}
	return roundTo(s, b.round)
}

// ropeFreqs derives every layer's frequency divisors at load from, in this
// order: the rope_freqs.weight tensor (llama.cpp's form of Llama 3 scaling;
// HF sources synthesize it too, cfg.RopeFreqs), else the config's llama3
// rope_scaling; times the linear scaling factor on global layers (Gemma 3
// 4B+; sliding layers are unscaled, as in HF and llama.cpp); then the
// optional emulation of HF's rounded inverse frequencies. Returns nil when
// every layer uses plain RoPE.
func ropeFreqs(be Backend, src model.Source, cfg *model.Config, round dtype.DType) ([]Tensor, error) {
	dim := ropeDim(cfg)
	scale, err := storedFactors(src, dim/2)
	if err != nil {
		return nil, err
	}
	if cfg.RopeFreqs && scale == nil {
		return nil, fmt.Errorf("the config says rope_freqs.weight holds RoPE factors but the model has no such tensor")
	}
	if scale == nil {
		scale = Llama3Factors(cfg)
	}
	linear := 1.0
	if s := cfg.RopeScaling; s != nil && s.Type == "linear" && s.Factor > 0 {
		linear = s.Factor
	}
	exact := round == dtype.F32 || round == dtype.F64
	if scale == nil && linear == 1 && exact {
		return nil, nil
	}
	type key struct {
		theta  float64
		linear bool
	}
	made := map[key]Tensor{}
	out := make([]Tensor, cfg.Layers)
	for i := range out {
		k := key{cfg.LayerRopeTheta(i), linear != 1 && !cfg.IsSliding(i)}
		if t, ok := made[k]; ok {
			out[i] = t
			continue
		}
		f := make([]float32, dim/2)
		for j := range f {
			div := 1.0
			if scale != nil {
				div = float64(scale[j])
			}
			if k.linear {
				div *= linear
			}
			// HF keeps inv_freq/div in a buffer of the model dtype: rotate
			// with that rounded frequency, i.e. divide by inv/rounded.
			inv := math.Pow(k.theta, -float64(2*j)/float64(dim))
			if exact {
				f[j] = float32(div)
			} else {
				f[j] = float32(inv / float64(roundTo(float32(inv/div), round)))
			}
		}
		made[k] = be.Floats(f, len(f))
		out[i] = made[k]
	}
	return out, nil
}

func storedFactors(src model.Source, n int) ([]float32, error) {
	const name = "rope_freqs.weight"
	for _, t := range src.Tensors() {
		if t.Name != name {
			continue
		}
		if t.Elements() != int64(n) {
			return nil, fmt.Errorf("%s has %d values, want %d (rope_dim/2)", name, t.Elements(), n)
		}
		raw, err := src.ReadTensor(name)
		if err != nil {
			return nil, err
		}
		return quant.ToFloat32(t.DType, raw, n)
	}
	return nil, nil
}

func roundTo(v float32, t dtype.DType) float32 {
	switch t {
	case dtype.BF16:
		return quant.BF16ToF32(quant.F32ToBF16(v))
	case dtype.F16:
		return quant.F16ToF32(quant.F32ToF16(v))
	}
	return v
}

// Llama3Factors computes Llama 3's RoPE frequency divisors (one per rotated
// pair; nil without llama3 scaling). Same rule as HF's rope_type "llama3" and
// llama.cpp's rope_freqs.weight: frequencies whose wavelength is below
// original_context/high_freq_factor keep their value, those above
// original_context/low_freq_factor are divided by factor, and those between
// are interpolated smoothly.
func Llama3Factors(cfg *model.Config) []float32 {
	s := cfg.RopeScaling
	if s == nil || s.Type != "llama3" || s.Factor == 0 {
		return nil
	}
	dim := ropeDim(cfg)
	oldCtx := float64(s.OriginalContextLen)
	lowWavelen := oldCtx / s.LowFreqFactor
	highWavelen := oldCtx / s.HighFreqFactor
	out := make([]float32, dim/2)
	for i := range out {
		freq := math.Pow(cfg.RopeTheta, -float64(2*i)/float64(dim))
		wavelen := 2 * math.Pi / freq
		switch {
		case wavelen < highWavelen:
			out[i] = 1
		case wavelen > lowWavelen:
			out[i] = float32(s.Factor)
		default:
			smooth := (oldCtx/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
			out[i] = float32(1 / ((1-smooth)/s.Factor + smooth))
		}
	}
	return out
}
