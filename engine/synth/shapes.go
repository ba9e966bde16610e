package synth

import (
	"fmt"
	"math"
	"sort"

	"github.com/doppler-engine/doppler/engine/model"
)

// Architectures synth writes.
var Archs = []string{model.ArchLlama, model.ArchGemma, model.ArchGemma2, model.ArchGemma3, model.ArchQwen3, model.ArchMixtral, model.ArchQwen3MoE}

// realShape is a public model's config.json values (the models' HF configs).
type realShape struct {
	arch string
	cfg  model.Config
}

// realShapes: google/gemma-3-270m, google/gemma-3-1b-it, google/gemma-2-2b-it,
// Qwen/Qwen3-0.6B, meta-llama/Llama-3.2-1B-Instruct.
var realShapes = map[string]realShape{
	"gemma3-270m": {model.ArchGemma3, model.Config{Hidden: 640, Layers: 18, Heads: 4, KVHeads: 1, HeadDim: 256, FFN: 2048,
		VocabSize: 262144, ContextLength: 32768, NormEps: 1e-6, RopeTheta: 1e6, RopeLocalTheta: 10000, SlidingWindow: 512,
		AttnScale: 1 / math.Sqrt(256)}},
	"gemma3-1b": {model.ArchGemma3, model.Config{Hidden: 1152, Layers: 26, Heads: 4, KVHeads: 1, HeadDim: 256, FFN: 6912,
		VocabSize: 262144, ContextLength: 32768, NormEps: 1e-6, RopeTheta: 1e6, RopeLocalTheta: 10000, SlidingWindow: 512,
		AttnScale: 1 / math.Sqrt(256)}},
	"gemma2-2b": {model.ArchGemma2, model.Config{Hidden: 2304, Layers: 26, Heads: 8, KVHeads: 4, HeadDim: 256, FFN: 9216,
		VocabSize: 256000, ContextLength: 8192, NormEps: 1e-6, RopeTheta: 10000, SlidingWindow: 4096,
		AttnSoftcap: 50, FinalSoftcap: 30, AttnScale: 1 / math.Sqrt(256)}},
	"qwen3-0.6b": {model.ArchQwen3, model.Config{Hidden: 1024, Layers: 28, Heads: 16, KVHeads: 8, HeadDim: 128, FFN: 3072,
		VocabSize: 151936, ContextLength: 40960, NormEps: 1e-6, RopeTheta: 1e6, TiedEmbeddings: true}},
	"llama3.2-1b": {model.ArchLlama, model.Config{Hidden: 2048, Layers: 16, Heads: 32, KVHeads: 8, HeadDim: 64, FFN: 8192,
		VocabSize: 128256, ContextLength: 131072, NormEps: 1e-5, RopeTheta: 500000, TiedEmbeddings: true,
		RopeScaling: &model.RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContextLen: 8192}}},
}

// Shapes lists every --shape value.
func Shapes() []string {
	out := []string{"tiny"}
	for k := range realShapes {
		out = append(out, k)
	}
	sort.Strings(out[1:])
	return out
}

// Tiny MoE sizes: mixtral 4 experts / 2 used / expert FFN 512 (like the
// dense FFN); qwen3moe 8 experts / 2 used / expert FFN 256 (Qwen3-MoE's
// experts are narrower than a dense FFN would be).
const (
	tinyMixtralExperts, tinyMixtralUsed, tinyMixtralFFN = 4, 2, 512
	tinyQwenMoEExperts, tinyQwenMoEUsed, tinyQwenMoEFFN = 8, 2, 256
	tinySlidingWindow                                   = 64
)

// configFor returns the Config synth writes for arch and shape.
func configFor(arch, shape string) (*model.Config, error) {
	var c model.Config
	if shape == "tiny" {
		c = model.Config{Hidden: 256, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64, FFN: 512, VocabSize: 4096,
			ContextLength: 2048, NormEps: 1e-6, RopeTheta: 10000}
		switch arch {
		case model.ArchLlama: // Llama 3.2 style, with its rope scaling
			c.NormEps, c.RopeTheta, c.TiedEmbeddings = 1e-5, 500000, true
			c.RopeScaling = &model.RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContextLen: 8192}
		case model.ArchMixtral:
			c.NormEps, c.RopeTheta = 1e-5, 1e6
			c.Experts, c.ExpertsUsed, c.ExpertFFN = tinyMixtralExperts, tinyMixtralUsed, tinyMixtralFFN
		case model.ArchQwen3:
			c.RopeTheta, c.TiedEmbeddings = 1e6, true
		case model.ArchQwen3MoE:
			c.RopeTheta = 1e6
			c.Experts, c.ExpertsUsed, c.ExpertFFN = tinyQwenMoEExperts, tinyQwenMoEUsed, tinyQwenMoEFFN
		case model.ArchGemma2:
			c.SlidingWindow, c.AttnSoftcap, c.FinalSoftcap = tinySlidingWindow, 50, 30
		case model.ArchGemma3:
			c.RopeTheta, c.RopeLocalTheta, c.SlidingWindow = 1e6, 10000, tinySlidingWindow
		case model.ArchGemma:
		default:
			return nil, fmt.Errorf("unknown architecture %q (one of %v)", arch, Archs)
		}
	} else {
		rs, ok := realShapes[shape]
		if !ok {
			return nil, fmt.Errorf("unknown shape %q (one of %v)", shape, Shapes())
		}
		if arch != "" && arch != rs.arch {
			return nil, fmt.Errorf("shape %s is a %s model: use --arch %s (or leave --arch out)", shape, rs.arch, rs.arch)
		}
		arch, c = rs.arch, rs.cfg
	}
	c.Architecture = arch
	c.RopeDim = c.HeadDim
	c.Activation = "silu"
	c.RopeStyle = model.RopeNeoX
	switch arch {
	case model.ArchLlama, model.ArchMixtral:
		c.RopeStyle = model.RopeNormal
	case model.ArchGemma, model.ArchGemma2, model.ArchGemma3:
		c.Activation = "gelu_tanh"
		c.EmbedScale = math.Sqrt(float64(c.Hidden))
		c.TiedEmbeddings = true
		if arch != model.ArchGemma {
			c.AttnScale = 1 / math.Sqrt(float64(c.HeadDim))
			c.PostAttnNorm, c.PostFFNNorm = true, true
			// llama.cpp's patterns: Gemma 2 alternates from a sliding layer,
			// Gemma 3 has 5 sliding layers then a global one.
			period := 2
			if arch == model.ArchGemma3 {
				period = 6
			}
			c.Sliding = make([]bool, c.Layers)
			for i := range c.Sliding {
				c.Sliding[i] = i%period < period-1
			}
		}
	}
	if arch == model.ArchGemma3 || arch == model.ArchQwen3 || arch == model.ArchQwen3MoE {
		c.QKNorm = true
	}
	if c.Experts > 0 {
		c.NormTopKProb = true
	}
	c.RopeFreqs = c.RopeScaling != nil && c.RopeScaling.Type == "llama3"
	return &c, nil
}

// tokenizerFamily maps an architecture to its vocabulary and chat template:
// a file of templates/ ("*.jinja") or the name of one of the tokenizer
// package's published templates (tokenizer.ReferenceTemplate).
func tokenizerFamily(arch string) (family, template string) {
	switch arch {
	case model.ArchGemma, model.ArchGemma2:
		return "gemma", "gemma.jinja"
	case model.ArchGemma3:
		return "gemma", "gemma3.jinja"
	case model.ArchQwen3, model.ArchQwen3MoE:
		return "qwen", "qwen3.jinja"
	case model.ArchMixtral:
		return "mistral", "mixtral"
	}
	return "llama3", "llama3"
}
