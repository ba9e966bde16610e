package model

import (
	"math"
	"testing"

	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ggufKV builds a header with the common keys of arch plus extra ones.
func ggufKV(arch string, layers uint32, extra ...gguf.KV) *gguf.File {
	p := arch + "."
	kv := []gguf.KV{
		{Key: "general.architecture", Value: arch},
		{Key: p + "embedding_length", Value: uint32(256)},
		{Key: p + "block_count", Value: layers},
		{Key: p + "attention.head_count", Value: uint32(4)},
		{Key: p + "attention.head_count_kv", Value: uint32(2)},
		{Key: p + "feed_forward_length", Value: uint32(512)},
		{Key: p + "attention.layer_norm_rms_epsilon", Value: float32(1e-6)},
		{Key: p + "context_length", Value: uint32(1024)},
		{Key: p + "vocab_size", Value: uint32(512)},
	}
	for _, e := range extra {
		replaced := false
		for i := range kv {
			if kv[i].Key == e.Key {
				kv[i], replaced = e, true
			}
		}
		if !replaced {
			kv = append(kv, e)
		}
	}
	return &gguf.File{KV: kv}
}

func TestConfigFromGGUF(t *testing.T) {
	cases := []struct {
		name  string
		f     *gguf.File
		check func(t *testing.T, c *Config)
	}{
		{"llama defaults", ggufKV("llama", 2), func(t *testing.T, c *Config) {
			assert.Equal(t, ArchLlama, c.Architecture)
			assert.Equal(t, RopeNormal, c.RopeStyle)
			assert.Equal(t, 64, c.HeadDim)
			assert.Equal(t, 64, c.RopeDim)
			assert.Equal(t, 10000.0, c.RopeTheta)
			assert.Equal(t, 1e-6, c.NormEps)
			assert.Equal(t, "silu", c.Activation)
			assert.Zero(t, c.AttnScale)
		}},
		{"mixtral from llama + experts", ggufKV("llama", 2, gguf.KV{Key: "llama.expert_count", Value: uint32(8)}, gguf.KV{Key: "llama.expert_used_count", Value: uint32(2)}), func(t *testing.T, c *Config) {
			assert.Equal(t, ArchMixtral, c.Architecture)
			assert.Equal(t, 8, c.Experts)
			assert.Equal(t, 2, c.ExpertsUsed)
			assert.Equal(t, 512, c.ExpertFFN)
			assert.True(t, c.NormTopKProb)
		}},
		{"qwen3moe", ggufKV("qwen3moe", 2, gguf.KV{Key: "qwen3moe.expert_count", Value: uint32(8)}, gguf.KV{Key: "qwen3moe.expert_used_count", Value: uint32(2)},
			gguf.KV{Key: "qwen3moe.expert_feed_forward_length", Value: uint32(128)}, gguf.KV{Key: "qwen3moe.attention.key_length", Value: uint32(128)}), func(t *testing.T, c *Config) {
			assert.Equal(t, ArchQwen3MoE, c.Architecture)
			assert.Equal(t, 128, c.ExpertFFN)
			assert.Equal(t, 128, c.HeadDim)
			assert.Equal(t, RopeNeoX, c.RopeStyle)
		}},
		{"gemma", ggufKV("gemma", 2), func(t *testing.T, c *Config) {
			assert.Equal(t, "gelu_tanh", c.Activation)
			assert.Equal(t, 16.0, c.EmbedScale)
			assert.Nil(t, c.Sliding)
		}},
		{"gemma2 softcap defaults and alternation", ggufKV("gemma2", 4, gguf.KV{Key: "gemma2.attention.sliding_window", Value: uint32(4096)}), func(t *testing.T, c *Config) {
			assert.Equal(t, 50.0, c.AttnSoftcap)
			assert.Equal(t, 30.0, c.FinalSoftcap)
			assert.Equal(t, []bool{true, false, true, false}, c.Sliding)
			assert.Equal(t, 4096, c.SlidingWindow)
			assert.Equal(t, 0.125, c.AttnScale)
			assert.Zero(t, c.RopeLocalTheta)
		}},
		{"gemma2 27B scale", ggufKV("gemma2", 46, gguf.KV{Key: "gemma2.attention.key_length", Value: uint32(128)}), func(t *testing.T, c *Config) {
			assert.Equal(t, 1/math.Sqrt(64), c.AttnScale) // hidden/heads = 64, not head_dim 128
		}},
		{"gemma3 pattern of 6", ggufKV("gemma3", 7, gguf.KV{Key: "gemma3.attention.sliding_window", Value: uint32(512)}, gguf.KV{Key: "gemma3.rope.freq_base", Value: float32(1e6)}), func(t *testing.T, c *Config) {
			assert.Equal(t, []bool{true, true, true, true, true, false, true}, c.Sliding)
			assert.Equal(t, 1e6, c.RopeTheta)
			assert.Equal(t, 10000.0, c.RopeLocalTheta)
			assert.Equal(t, 10000.0, c.LayerRopeTheta(0))
			assert.Equal(t, 1e6, c.LayerRopeTheta(5))
			assert.Zero(t, c.AttnSoftcap)
		}},
		{"gemma3 explicit pattern", ggufKV("gemma3", 4, gguf.KV{Key: "gemma3.attention.sliding_window", Value: uint32(512)},
			gguf.KV{Key: "gemma3.attention.sliding_window_pattern", Value: []bool{true, false, false, true}}), func(t *testing.T, c *Config) {
			assert.Equal(t, []bool{true, false, false, true}, c.Sliding)
		}},
		{"gemma3 without window: all global", ggufKV("gemma3", 4), func(t *testing.T, c *Config) {
			assert.Nil(t, c.Sliding)
			assert.Zero(t, c.RopeLocalTheta)
		}},
		{"linear rope scaling", ggufKV("gemma3", 2, gguf.KV{Key: "gemma3.rope.scaling.type", Value: "linear"}, gguf.KV{Key: "gemma3.rope.scaling.factor", Value: float32(8)}), func(t *testing.T, c *Config) {
			require.NotNil(t, c.RopeScaling)
			assert.Equal(t, RopeScaling{Type: "linear", Factor: 8}, *c.RopeScaling)
		}},
		{"per-layer head count array", ggufKV("llama", 2, gguf.KV{Key: "llama.attention.head_count_kv", Value: []uint32{2, 2}}), func(t *testing.T, c *Config) {
			assert.Equal(t, 2, c.KVHeads)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromGGUF(tc.f, nil)
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestConfigFromGGUFErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *gguf.File
		want string
	}{
		{"no arch", &gguf.File{}, "general.architecture"},
		{"unknown arch", ggufKV("falcon", 2), "unsupported architecture"},
		{"missing key", &gguf.File{KV: []gguf.KV{{Key: "general.architecture", Value: "llama"}}}, "llama.embedding_length"},
		{"yarn", ggufKV("llama", 2, gguf.KV{Key: "llama.rope.scaling.type", Value: "yarn"}), "yarn"},
		{"varying heads", ggufKV("llama", 2, gguf.KV{Key: "llama.attention.head_count_kv", Value: []uint32{2, 4}}), "varies per layer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfigFromGGUF(tc.f, nil)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
