package model

import "github.com/doppler-engine/doppler/engine/dtype"

// Architecture names, as GGUF general.architecture spells them (mixtral files
// from llama.cpp say "llama" and are recognized by their expert tensors).
const (
	ArchLlama    = "llama"
	ArchGemma    = "gemma"
	ArchGemma2   = "gemma2"
	ArchGemma3   = "gemma3"
	ArchQwen3    = "qwen3"
	ArchMixtral  = "mixtral"
	ArchQwen3MoE = "qwen3moe"
)

// RopeStyle says which element pairs RoPE rotates.
type RopeStyle string

const (
	RopeNormal RopeStyle = "normal" // adjacent pairs (2i, 2i+1): llama.cpp LLAMA_ROPE_TYPE_NORM
	RopeNeoX   RopeStyle = "neox"   // halves (i, i+d/2): HF rotate_half
)

// RopeScaling is a RoPE frequency scaling of the global (full-attention)
// layers; sliding-window layers never scale (Gemma 3, as llama.cpp and HF).
type RopeScaling struct {
	// Type is "llama3", "linear" (positions divided by Factor: Gemma 3 4B+
	// global layers) or "" for none.
	Type               string  `json:"type"`
	Factor             float64 `json:"factor"`
	LowFreqFactor      float64 `json:"low_freq_factor"`
	HighFreqFactor     float64 `json:"high_freq_factor"`
	OriginalContextLen int     `json:"original_context_length"`
}

// Config is the normalized set of hyper-parameters every architecture uses.
// Zero values mean "feature off" (no softcap, no sliding window, no experts).
type Config struct {
	Architecture   string       `json:"architecture"`
	VocabSize      int          `json:"vocab_size"`
	Hidden         int          `json:"hidden_size"`
	Layers         int          `json:"num_layers"`
	Heads          int          `json:"num_heads"`
	KVHeads        int          `json:"num_kv_heads"`
	HeadDim        int          `json:"head_dim"`
	FFN            int          `json:"ffn_size"`
	ContextLength  int          `json:"context_length"`
	NormEps        float64      `json:"norm_eps"`
	RopeStyle      RopeStyle    `json:"rope_style"`
	RopeDim        int          `json:"rope_dim"`         // rotated dims per head (partial rotary); = HeadDim normally
	RopeTheta      float64      `json:"rope_theta"`       // global (full attention) layers
	RopeLocalTheta float64      `json:"rope_local_theta"` // sliding-window layers (Gemma 3: 10k); 0 = same as RopeTheta
	RopeScaling    *RopeScaling `json:"rope_scaling,omitempty"`
	// RopeFreqs says the rope_freqs.weight tensor (F32, RopeDim/2 values) holds
	// per-frequency divisors: freq_i = theta^(-2i/RopeDim) / rope_freqs[i].
	// llama.cpp's converter writes it for Llama 3 scaling; HF sources
	// synthesize it the same way, so when it is set RopeScaling is informative
	// only and must not be applied a second time.
	RopeFreqs bool `json:"rope_freqs"`
	// SlidingWindow is the window length for layers with Sliding[i] true.
	SlidingWindow int     `json:"sliding_window"`
	Sliding       []bool  `json:"sliding_layers"`      // per layer; nil = all global
	AttnSoftcap   float64 `json:"attn_logit_softcap"`  // Gemma 2: 50
	FinalSoftcap  float64 `json:"final_logit_softcap"` // Gemma 2: 30
	// AttnScale multiplies q·k; 0 means 1/sqrt(HeadDim). Gemma: query_pre_attn_scalar^-0.5.
	AttnScale      float64 `json:"attn_scale"`
	EmbedScale     float64 `json:"embed_scale"` // Gemma: sqrt(Hidden); 0 = 1
	TiedEmbeddings bool    `json:"tied_embeddings"`
	// Mixture of experts.
	Experts      int  `json:"num_experts"`
	ExpertsUsed  int  `json:"num_experts_used"`
	ExpertFFN    int  `json:"expert_ffn_size"` // 0 = FFN
	NormTopKProb bool `json:"norm_topk_prob"`  // renormalize the top-k router weights
	// Activation of the gated FFN: "silu" (SwiGLU) or "gelu_tanh" (GeGLU).
	Activation string `json:"activation"`
	// Norm flags derived from the tensors present (see the validator).
	QKNorm       bool `json:"qk_norm"`        // attn_q_norm/attn_k_norm
	PostAttnNorm bool `json:"post_attn_norm"` // post_attention_norm (Gemma 2/3 sandwich)
	PostFFNNorm  bool `json:"post_ffn_norm"`  // post_ffw_norm
	// HFDType is the torch dtype an HF checkpoint declares (config.json
	// "dtype", "torch_dtype" in 4.x: "bfloat16", "float16" or "float32"),
	// kept in converted shards; empty for GGUF. transformers loads the model
	// in it and then keeps two constants rounded to it (see
	// HFComputeDType), so matching HF's logits needs it.
	HFDType string `json:"hf_dtype,omitempty"`
}

// IsSliding reports whether layer i uses the sliding window.
func (c *Config) IsSliding(i int) bool {
	return i < len(c.Sliding) && c.Sliding[i] && c.SlidingWindow > 0
}

// LayerRopeTheta returns the RoPE base of layer i.
func (c *Config) LayerRopeTheta(i int) float64 {
	if c.IsSliding(i) && c.RopeLocalTheta > 0 {
		return c.RopeLocalTheta
	}
	return c.RopeTheta
}

// HFComputeDType is the dtype in which transformers holds RoPE's inverse
// frequencies and Gemma's sqrt(hidden) normalizer for this checkpoint:
// BF16 or F16 for half-precision HF checkpoints, else F32 (exact values, as
// llama.cpp computes them).
func (c *Config) HFComputeDType() dtype.DType {
	switch c.HFDType {
	case "bfloat16":
		return dtype.BF16
	case "float16":
		return dtype.F16
	}
	return dtype.F32
}
