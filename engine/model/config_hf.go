package model

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// hfConfig is the union of the config.json fields Doppler reads, in both
// transformers 4.x (rope_theta, rope_scaling, rope_local_base_freq,
// sliding_window_pattern) and 5.x (rope_parameters, layer_types) styles.
type hfConfig struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	VocabSize             int             `json:"vocab_size"`
	HiddenSize            int             `json:"hidden_size"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumKeyValueHeads      *int            `json:"num_key_value_heads"`
	HeadDim               *int            `json:"head_dim"`
	IntermediateSize      int             `json:"intermediate_size"`
	MoeIntermediateSize   int             `json:"moe_intermediate_size"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	RopeTheta             *float64        `json:"rope_theta"`
	RopeLocalBaseFreq     *float64        `json:"rope_local_base_freq"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	RopeParameters        json.RawMessage `json:"rope_parameters"`
	PartialRotaryFactor   *float64        `json:"partial_rotary_factor"`
	SlidingWindow         *int            `json:"sliding_window"`
	SlidingWindowPattern  *int            `json:"sliding_window_pattern"`
	SlidingWindowPattern5 *int            `json:"_sliding_window_pattern"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	LayerTypes            []string        `json:"layer_types"`
	AttnLogitSoftcapping  *float64        `json:"attn_logit_softcapping"`
	FinalLogitSoftcapping *float64        `json:"final_logit_softcapping"`
	QueryPreAttnScalar    *float64        `json:"query_pre_attn_scalar"`
	HiddenAct             string          `json:"hidden_act"`
	HiddenActivation      string          `json:"hidden_activation"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	NumLocalExperts       int             `json:"num_local_experts"`
	NumExperts            int             `json:"num_experts"`
	NumExpertsPerTok      int             `json:"num_experts_per_tok"`
	NormTopKProb          *bool           `json:"norm_topk_prob"`
	DecoderSparseStep     *int            `json:"decoder_sparse_step"`
	MlpOnlyLayers         []int           `json:"mlp_only_layers"`
	AttentionBias         bool            `json:"attention_bias"`
	MLPBias               bool            `json:"mlp_bias"`
	TextConfig            *hfConfig       `json:"text_config"`
	DType                 string          `json:"dtype"`       // transformers 5.x
	TorchDType            string          `json:"torch_dtype"` // transformers 4.x
}

// ropeParams is one rope_parameters entry (or the 4.x rope_scaling object
// plus rope_theta).
type ropeParams struct {
	RopeTheta      *float64 `json:"rope_theta"`
	RopeType       string   `json:"rope_type"`
	Type           string   `json:"type"` // older spelling of rope_type
	Factor         float64  `json:"factor"`
	LowFreqFactor  float64  `json:"low_freq_factor"`
	HighFreqFactor float64  `json:"high_freq_factor"`
	OriginalMaxPos int      `json:"original_max_position_embeddings"`
}

// hfArch maps HF architectures / model types to Doppler architectures.
var hfArch = map[string]string{
	"LlamaForCausalLM":      ArchLlama,
	"MistralForCausalLM":    ArchLlama,
	"GemmaForCausalLM":      ArchGemma,
	"Gemma2ForCausalLM":     ArchGemma2,
	"Gemma3ForCausalLM":     ArchGemma3,
	"Qwen3ForCausalLM":      ArchQwen3,
	"MixtralForCausalLM":    ArchMixtral,
	"Qwen3MoeForCausalLM":   ArchQwen3MoE,
	"llama":                 ArchLlama,
	"mistral":               ArchLlama,
	"gemma":                 ArchGemma,
	"gemma2":                ArchGemma2,
	"gemma3_text":           ArchGemma3,
	"qwen3":                 ArchQwen3,
	"mixtral":               ArchMixtral,
	"qwen3_moe":             ArchQwen3MoE,
	"Gemma3TextForCausalLM": ArchGemma3,
}

// ConfigFromHF parses an HF config.json. Tensor-dependent flags (q/k norm,
// sandwich norms, tied embeddings when lm_head is absent, rope_freqs) are
// set from the tensor list by the HF source, as for every source.
func ConfigFromHF(data []byte) (*Config, error) {
	var h hfConfig
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if h.TextConfig != nil && h.HiddenSize == 0 {
		return nil, fmt.Errorf("config.json describes a multimodal model (%v): only text-only checkpoints are supported", h.Architectures)
	}
	arch := ""
	for _, a := range h.Architectures {
		if v, ok := hfArch[a]; ok {
			arch = v
			break
		}
	}
	if arch == "" {
		arch = hfArch[h.ModelType]
	}
	if arch == "" {
		return nil, fmt.Errorf("config.json: unsupported architecture %v (model_type %q); supported: Llama, Mixtral, Gemma, Gemma 2, Gemma 3 (text), Qwen3, Qwen3-MoE", h.Architectures, h.ModelType)
	}
	if h.AttentionBias || h.MLPBias {
		return nil, fmt.Errorf("config.json: attention/MLP biases are not supported")
	}
	c := &Config{
		Architecture:  arch,
		VocabSize:     h.VocabSize,
		Hidden:        h.HiddenSize,
		Layers:        h.NumHiddenLayers,
		Heads:         h.NumAttentionHeads,
		KVHeads:       h.NumAttentionHeads,
		FFN:           h.IntermediateSize,
		ContextLength: h.MaxPositionEmbeddings,
		NormEps:       1e-6,
		Activation:    "silu",
		RopeStyle:     RopeNeoX,
	}
	c.HFDType = hfTorchDType(&h)
	if h.NumKeyValueHeads != nil {
		c.KVHeads = *h.NumKeyValueHeads
	}
	if h.HeadDim != nil && *h.HeadDim > 0 {
		c.HeadDim = *h.HeadDim
	} else if c.Heads > 0 {
		c.HeadDim = c.Hidden / c.Heads
	}
	if h.RMSNormEps != nil {
		c.NormEps = *h.RMSNormEps
	}
	c.RopeDim = c.HeadDim
	if h.PartialRotaryFactor != nil {
		c.RopeDim = int(float64(c.HeadDim) * *h.PartialRotaryFactor)
	}
	if h.HiddenActivation != "" || h.HiddenAct != "" {
		act := h.HiddenActivation
		if act == "" {
			act = h.HiddenAct
		}
		switch act {
		case "silu", "swish":
			c.Activation = "silu"
		case "gelu_pytorch_tanh", "gelu_tanh", "gelu":
			// Gemma's "gelu" in old configs was the tanh approximation too.
			c.Activation = "gelu_tanh"
		default:
			return nil, fmt.Errorf("config.json: activation %q is not supported", act)
		}
	}
	gemma := arch == ArchGemma || arch == ArchGemma2 || arch == ArchGemma3
	if gemma {
		c.Activation = "gelu_tanh"
		c.EmbedScale = math.Sqrt(float64(c.Hidden))
		scalar := float64(c.HeadDim)
		if h.QueryPreAttnScalar != nil && *h.QueryPreAttnScalar > 0 {
			scalar = *h.QueryPreAttnScalar
		}
		c.AttnScale = 1 / math.Sqrt(scalar)
	}
	if arch == ArchLlama || arch == ArchMixtral {
		c.RopeStyle = RopeNormal // Q/K rows are permuted to llama.cpp's order on load
	}

	// Tied embeddings: transformers' defaults per family; the source also
	// ties when lm_head.weight is absent.
	c.TiedEmbeddings = gemma
	if h.TieWordEmbeddings != nil {
		c.TiedEmbeddings = *h.TieWordEmbeddings
	}

	if err := hfRope(&h, arch, c); err != nil {
		return nil, err
	}
	if err := hfSliding(&h, arch, c); err != nil {
		return nil, err
	}
	if arch == ArchGemma2 {
		c.AttnSoftcap, c.FinalSoftcap = 50, 30 // Gemma2Config defaults
		if raw := rawField(data, "attn_logit_softcapping"); raw != "" {
			c.AttnSoftcap = floatOr(h.AttnLogitSoftcapping, 0)
		}
		if raw := rawField(data, "final_logit_softcapping"); raw != "" {
			c.FinalSoftcap = floatOr(h.FinalLogitSoftcapping, 0)
		}
	} else {
		c.AttnSoftcap = floatOr(h.AttnLogitSoftcapping, 0)
		c.FinalSoftcap = floatOr(h.FinalLogitSoftcapping, 0)
	}

	if arch == ArchMixtral || arch == ArchQwen3MoE {
		c.Experts = h.NumLocalExperts
		if c.Experts == 0 {
			c.Experts = h.NumExperts
		}
		c.ExpertsUsed = h.NumExpertsPerTok
		c.ExpertFFN = h.IntermediateSize
		c.NormTopKProb = true // Mixtral renormalizes the top-k softmax weights
		if arch == ArchQwen3MoE {
			c.ExpertFFN = h.MoeIntermediateSize
			c.NormTopKProb = h.NormTopKProb != nil && *h.NormTopKProb
			if len(h.MlpOnlyLayers) > 0 || (h.DecoderSparseStep != nil && *h.DecoderSparseStep > 1) {
				return nil, fmt.Errorf("config.json: Qwen3-MoE with dense layers (mlp_only_layers / decoder_sparse_step) is not supported")
			}
		}
	}
	return c, nil
}

func floatOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// rawField returns the raw JSON of a top-level key ("" when absent).
func rawField(data []byte, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	return string(m[key])
}

// hfRope fills RoPE bases and scaling from either config style.
func hfRope(h *hfConfig, arch string, c *Config) error {
	var full, local *ropeParams
	if len(h.RopeParameters) > 0 && string(h.RopeParameters) != "null" {
		var perType map[string]json.RawMessage
		if err := json.Unmarshal(h.RopeParameters, &perType); err != nil {
			return fmt.Errorf("config.json rope_parameters: %w", err)
		}
		_, hasFull := perType["full_attention"]
		_, hasSliding := perType["sliding_attention"]
		if hasFull || hasSliding {
			for k, raw := range perType {
				var p ropeParams
				if err := json.Unmarshal(raw, &p); err != nil {
					return fmt.Errorf("config.json rope_parameters.%s: %w", k, err)
				}
				switch k {
				case "full_attention":
					full = &p
				case "sliding_attention":
					local = &p
				}
			}
		} else {
			var p ropeParams
			if err := json.Unmarshal(h.RopeParameters, &p); err != nil {
				return fmt.Errorf("config.json rope_parameters: %w", err)
			}
			full = &p
		}
	} else {
		full = &ropeParams{RopeTheta: h.RopeTheta}
		if len(h.RopeScaling) > 0 && string(h.RopeScaling) != "null" {
			if err := json.Unmarshal(h.RopeScaling, full); err != nil {
				return fmt.Errorf("config.json rope_scaling: %w", err)
			}
			full.RopeTheta = h.RopeTheta
		}
		if h.RopeLocalBaseFreq != nil {
			local = &ropeParams{RopeTheta: h.RopeLocalBaseFreq}
		}
	}
	// transformers' defaults when the config leaves a base out.
	defFull, defLocal := 10000.0, 0.0
	if arch == ArchGemma3 {
		defFull, defLocal = 1e6, 10000
	}
	if full == nil {
		full = &ropeParams{}
	}
	c.RopeTheta = floatOr(full.RopeTheta, defFull)
	if local != nil {
		c.RopeLocalTheta = floatOr(local.RopeTheta, defLocal)
		if t := ropeType(local); t != "default" && t != "" {
			return fmt.Errorf("config.json: rope type %q on sliding layers is not supported", t)
		}
	} else {
		c.RopeLocalTheta = defLocal
	}
	switch t := ropeType(full); t {
	case "", "default":
	case "linear":
		if full.Factor != 0 && full.Factor != 1 {
			c.RopeScaling = &RopeScaling{Type: "linear", Factor: full.Factor}
		}
	case "llama3":
		c.RopeScaling = &RopeScaling{Type: "llama3", Factor: full.Factor, LowFreqFactor: full.LowFreqFactor,
			HighFreqFactor: full.HighFreqFactor, OriginalContextLen: full.OriginalMaxPos}
	default:
		return fmt.Errorf("config.json: rope type %q is not supported (default, linear, llama3)", t)
	}
	return nil
}

func ropeType(p *ropeParams) string {
	if p.RopeType != "" {
		return p.RopeType
	}
	return p.Type
}

// hfSliding fills the sliding-window layers: layer_types (5.x) or the
// family's pattern (4.x: Gemma 2 alternates starting with a sliding layer,
// Gemma 3 has sliding_window_pattern-1 sliding layers then a global one).
func hfSliding(h *hfConfig, arch string, c *Config) error {
	window := 0
	if h.SlidingWindow != nil {
		window = *h.SlidingWindow
	}
	switch arch {
	case ArchGemma2, ArchGemma3:
	case ArchQwen3, ArchQwen3MoE:
		if h.UseSlidingWindow == nil || !*h.UseSlidingWindow {
			return nil
		}
		return fmt.Errorf("config.json: Qwen3 use_sliding_window is not supported")
	default:
		return nil // llama.cpp ignores Mistral-style windows for these
	}
	if window <= 0 {
		c.RopeLocalTheta = 0
		return nil
	}
	c.SlidingWindow = window
	c.Sliding = make([]bool, c.Layers)
	if len(h.LayerTypes) > 0 {
		if len(h.LayerTypes) != c.Layers {
			return fmt.Errorf("config.json: layer_types has %d entries for %d layers", len(h.LayerTypes), c.Layers)
		}
		for i, t := range h.LayerTypes {
			switch t {
			case "sliding_attention":
				c.Sliding[i] = true
			case "full_attention":
			default:
				return fmt.Errorf("config.json: layer type %q is not supported", t)
			}
		}
		return nil
	}
	period := 2
	if arch == ArchGemma3 {
		period = 6
		if h.SlidingWindowPattern != nil {
			period = *h.SlidingWindowPattern
		} else if h.SlidingWindowPattern5 != nil {
			period = *h.SlidingWindowPattern5
		}
	}
	for i := range c.Sliding {
		c.Sliding[i] = period <= 0 || (i+1)%period != 0
	}
	return nil
}

// hfTorchDType normalizes the checkpoint dtype config.json declares to
// "bfloat16", "float16" or "float32" ("" when absent or another value, such
// as "auto": then nothing is rounded).
func hfTorchDType(h *hfConfig) string {
	d := h.DType
	if d == "" {
		d = h.TorchDType
	}
	switch strings.TrimPrefix(d, "torch.") {
	case "bfloat16", "bf16":
		return "bfloat16"
	case "float16", "half", "fp16":
		return "float16"
	case "float32", "float", "fp32":
		return "float32"
	}
	return ""
}
