package model

import (
	"fmt"
	"math"
	"strconv"

	"github.com/doppler-engine/doppler/engine/gguf"
)

// ggufMeta is the part of a parsed GGUF header the config reader needs.
type ggufMeta interface {
	Get(key string) (any, bool)
	String(key string) (string, bool)
	Uint(key string) (uint64, bool)
	Float(key string) (float64, bool)
	Bool(key string) (bool, bool)
}

var _ ggufMeta = (*gguf.File)(nil)

// ConfigFromGGUF builds the normalized Config from GGUF metadata the way
// llama.cpp's loader (llama-model.cpp load_hparams) reads it, then derives
// the tensor-dependent flags from tensors.
func ConfigFromGGUF(md ggufMeta, tensors []TensorInfo) (*Config, error) {
	arch, ok := md.String("general.architecture")
	if !ok {
		return nil, fmt.Errorf("GGUF has no general.architecture")
	}
	switch arch {
	case ArchLlama, ArchGemma, ArchGemma2, ArchGemma3, ArchQwen3, ArchQwen3MoE:
	default:
		return nil, fmt.Errorf("unsupported architecture %q (supported: llama, mixtral, gemma, gemma2, gemma3, qwen3, qwen3moe)", arch)
	}
	p := arch + "."
	c := &Config{Architecture: arch}
	var err error
	req := func(key string) int {
		v, e := perLayerUint(md, p+key)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	c.Hidden = req("embedding_length")
	c.Layers = req("block_count")
	c.Heads = req("attention.head_count")
	if err != nil {
		return nil, err
	}
	c.KVHeads = optUint(md, p+"attention.head_count_kv", c.Heads, &err)
	if c.Heads > 0 {
		c.HeadDim = optUint(md, p+"attention.key_length", c.Hidden/c.Heads, &err)
	}
	if v := optUint(md, p+"attention.value_length", c.HeadDim, &err); v != c.HeadDim {
		return nil, fmt.Errorf("%sattention.value_length %d differs from key_length %d: unsupported", p, v, c.HeadDim)
	}
	c.FFN = optUint(md, p+"feed_forward_length", 0, &err)
	c.ContextLength = optUint(md, p+"context_length", 0, &err)
	c.NormEps = optFloat(md, p+"attention.layer_norm_rms_epsilon", 1e-5)
	c.RopeDim = optUint(md, p+"rope.dimension_count", c.HeadDim, &err)
	c.RopeTheta = optFloat(md, p+"rope.freq_base", 10000)
	c.VocabSize = optUint(md, p+"vocab_size", 0, &err)
	if c.VocabSize == 0 {
		if v, ok := md.Get("tokenizer.ggml.tokens"); ok {
			if toks, ok := v.([]string); ok {
				c.VocabSize = len(toks)
			}
		}
	}
	if c.VocabSize == 0 {
		for _, t := range tensors {
			if t.Name == "token_embd.weight" && len(t.Shape) == 2 {
				c.VocabSize = int(t.Shape[1])
			}
		}
	}
	if err := ropeScalingFromGGUF(md, p, c); err != nil {
		return nil, err
	}

	c.RopeStyle = RopeNeoX
	c.Activation = "silu"
	switch arch {
	case ArchLlama:
		c.RopeStyle = RopeNormal
	case ArchGemma:
		c.Activation = "gelu_tanh"
		c.EmbedScale = math.Sqrt(float64(c.Hidden))
	case ArchGemma2:
		c.Activation = "gelu_tanh"
		c.EmbedScale = math.Sqrt(float64(c.Hidden))
		// llama.cpp's hparams defaults are 50 and 30 when the keys are absent.
		c.AttnSoftcap = optFloat(md, p+"attn_logit_softcapping", 50)
		c.FinalSoftcap = optFloat(md, p+"final_logit_softcapping", 30)
		c.SlidingWindow = optUint(md, p+"attention.sliding_window", 4096, &err)
		c.Sliding = slidingPattern(md, p, c.Layers, 2)
		c.AttnScale = gemmaAttnScale(c, 46)
	case ArchGemma3:
		c.Activation = "gelu_tanh"
		c.EmbedScale = math.Sqrt(float64(c.Hidden))
		c.FinalSoftcap = optFloat(md, p+"final_logit_softcapping", 0)
		// Newer llama.cpp turns sliding attention off when the key is absent or 0.
		if w := optUint(md, p+"attention.sliding_window", 0, &err); w > 0 {
			c.SlidingWindow = w
			c.Sliding = slidingPattern(md, p, c.Layers, 6)
			// llama.cpp hard-codes rope_freq_base_train_swa = 10000; newer
			// files may say otherwise.
			c.RopeLocalTheta = optFloat(md, p+"rope.freq_base_swa", 10000)
		}
		c.AttnScale = gemmaAttnScale(c, 62)
	}
	if s := optFloat(md, p+"attention.scale", 0); s > 0 {
		c.AttnScale = s
	}

	c.Experts = optUint(md, p+"expert_count", 0, &err)
	if c.Experts > 0 {
		c.ExpertsUsed = optUint(md, p+"expert_used_count", 0, &err)
		c.ExpertFFN = optUint(md, p+"expert_feed_forward_length", c.FFN, &err)
		// llama.cpp renormalizes the top-k weights for both (mixtral's softmax
		// over the top-k logits is the same thing).
		c.NormTopKProb = true
		if b, ok := md.Bool(p + "expert_weights_norm"); ok {
			c.NormTopKProb = b
		}
		if arch == ArchLlama {
			c.Architecture = ArchMixtral
		}
	}
	if err != nil {
		return nil, err
	}
	DeriveFlags(c, tensors)
	return c, nil
}

// gemmaAttnScale is llama.cpp's f_attention_scale for Gemma 2/3: the 27B
// models (recognized by layer count) scale by hidden/heads, the others by head_dim.
func gemmaAttnScale(c *Config, layers27B int) float64 {
	q := float64(c.HeadDim)
	if c.Layers == layers27B && c.Heads > 0 {
		q = float64(c.Hidden / c.Heads)
	}
	return 1 / math.Sqrt(q)
}

// slidingPattern reads ARCH.attention.sliding_window_pattern (a period or a
// per-layer bool array) or applies llama.cpp's default period: with period n,
// layer i slides unless i%n == n-1.
func slidingPattern(md ggufMeta, p string, layers, period int) []bool {
	if v, ok := md.Get(p + "attention.sliding_window_pattern"); ok {
		if arr, ok := v.([]bool); ok && len(arr) == layers {
			return append([]bool(nil), arr...)
		}
		if n, ok := md.Uint(p + "attention.sliding_window_pattern"); ok && n > 0 {
			period = int(n)
		}
	}
	s := make([]bool, layers)
	for i := range s {
		s[i] = i%period < period-1
	}
	return s
}

func ropeScalingFromGGUF(md ggufMeta, p string, c *Config) error {
	typ, _ := md.String(p + "rope.scaling.type")
	factor := optFloat(md, p+"rope.scaling.factor", 0)
	if typ == "" {
		// Older files: rope.scale_linear.
		if f, ok := md.Float(p + "rope.scale_linear"); ok && f != 1 && f != 0 {
			typ, factor = "linear", f
		}
	}
	switch typ {
	case "", "none":
		return nil
	case "linear":
		if factor == 0 || factor == 1 {
			return nil
		}
		var err error
		c.RopeScaling = &RopeScaling{Type: "linear", Factor: factor,
			OriginalContextLen: optUint(md, p+"rope.scaling.original_context_length", 0, &err)}
		return err
	}
	return fmt.Errorf("%srope.scaling.type %q is not supported (only linear, and Llama 3's rope_freqs tensor)", p, typ)
}

// perLayerUint reads a required integer that llama.cpp allows as a per-layer
// array; arrays must hold one value (Doppler has no per-layer head counts).
func perLayerUint(md ggufMeta, key string) (int, error) {
	if u, ok := md.Uint(key); ok {
		return int(u), nil
	}
	v, ok := md.Get(key)
	if !ok {
		return 0, fmt.Errorf("GGUF lacks required key %s", key)
	}
	vals, ok := uintSlice(v)
	if !ok || len(vals) == 0 {
		return 0, fmt.Errorf("GGUF key %s has type %T, want an integer", key, v)
	}
	for _, x := range vals[1:] {
		if x != vals[0] {
			return 0, fmt.Errorf("GGUF key %s varies per layer: unsupported", key)
		}
	}
	return int(vals[0]), nil
}

func uintSlice(v any) ([]uint64, bool) {
	var out []uint64
	switch a := v.(type) {
	case []uint32:
		for _, x := range a {
			out = append(out, uint64(x))
		}
	case []int32:
		for _, x := range a {
			out = append(out, uint64(x))
		}
	case []uint64:
		out = append(out, a...)
	case []int64:
		for _, x := range a {
			out = append(out, uint64(x))
		}
	default:
		return nil, false
	}
	return out, true
}

// optUint reads an optional integer; a present but unusable value (wrong
// type, varying per layer) is an error, kept in the first slot of errp.
func optUint(md ggufMeta, key string, def int, errp *error) int {
	if _, ok := md.Get(key); !ok {
		return def
	}
	v, err := perLayerUint(md, key)
	if err != nil {
		if *errp == nil {
			*errp = err
		}
		return def
	}
	return v
}

// optFloat reads a float; float32 values become the float64 of their
// shortest decimal form (1e-5, not 9.999999747378752e-06), as the HF config
// and the model's authors wrote them.
func optFloat(md ggufMeta, key string, def float64) float64 {
	if v, ok := md.Get(key); ok {
		if f, ok := v.(float32); ok {
			d, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
			return d
		}
	}
	if f, ok := md.Float(key); ok {
		return f
	}
	return def
}
