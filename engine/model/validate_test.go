package model

import (
	"fmt"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gemma3Tiny() *Config {
	return &Config{Architecture: ArchGemma3, VocabSize: 64, Hidden: 32, Layers: 2, Heads: 2, KVHeads: 1, HeadDim: 16, FFN: 64,
		RopeStyle: RopeNeoX, RopeDim: 16, Activation: "gelu_tanh", TiedEmbeddings: true, QKNorm: true, PostAttnNorm: true, PostFFNNorm: true}
}

func tensorsFor(c *Config) []TensorInfo {
	ts := ExpectedTensors(c)
	for i := range ts {
		ts[i].DType = dtype.F32
	}
	return ts
}

func without(ts []TensorInfo, name string) []TensorInfo {
	var out []TensorInfo
	for _, t := range ts {
		if t.Name != name {
			out = append(out, t)
		}
	}
	return out
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		cfg     func(c *Config)
		tensors func(c *Config) []TensorInfo
		tensor  string
		flag    string
		msg     string
	}{
		{name: "seed: post-ffn norm tensors present, flag off", cfg: func(c *Config) { c.PostFFNNorm = false },
			tensor: "blk.0.post_ffw_norm.weight", flag: FlagPostFFNNorm, msg: "post_ffn_norm false"},
		{name: "flag on, tensor missing", tensors: func(c *Config) []TensorInfo { return without(tensorsFor(c), "blk.1.attn_k_norm.weight") },
			tensor: "blk.1.attn_k_norm.weight", flag: FlagQKNorm, msg: "missing"},
		{name: "qk norm present, flag off", cfg: func(c *Config) { c.QKNorm = false }, tensor: "blk.0.attn_q_norm.weight", flag: FlagQKNorm},
		{name: "post-attn norm present, flag off", cfg: func(c *Config) { c.PostAttnNorm = false }, tensor: "blk.0.post_attention_norm.weight", flag: FlagPostAttnNorm},
		{name: "tied but output present", tensors: func(c *Config) []TensorInfo {
			return append(tensorsFor(c), TensorInfo{Name: "output.weight", Shape: []int64{32, 64}, DType: dtype.F32})
		}, tensor: "output.weight", flag: FlagTied},
		{name: "untied but output missing", cfg: func(c *Config) { c.TiedEmbeddings = false }, tensors: func(c *Config) []TensorInfo {
			cc := *c
			cc.TiedEmbeddings = true
			return tensorsFor(&cc)
		}, tensor: "output.weight", flag: FlagTied, msg: "missing"},
		{name: "wrong shape", tensors: func(c *Config) []TensorInfo {
			ts := tensorsFor(c)
			ts[3].Shape = []int64{32, 32}
			return ts
		}, tensor: "blk.0.attn_k.weight", msg: "shape [32 32], the config implies [32 16]"},
		{name: "experts present, dense config", tensors: func(c *Config) []TensorInfo {
			return append(tensorsFor(c), TensorInfo{Name: "blk.0.ffn_gate_exps.weight", Shape: []int64{32, 64, 4}, DType: dtype.F32})
		}, tensor: "blk.0.ffn_gate_exps.weight", flag: FlagExperts},
		{name: "extra layer", tensors: func(c *Config) []TensorInfo {
			return append(tensorsFor(c), TensorInfo{Name: "blk.2.attn_norm.weight", Shape: []int64{32}, DType: dtype.F32})
		}, tensor: "blk.2.attn_norm.weight", flag: "num_layers"},
		{name: "rope_freqs without flag", tensors: func(c *Config) []TensorInfo {
			return append(tensorsFor(c), TensorInfo{Name: "rope_freqs.weight", Shape: []int64{8}, DType: dtype.F32})
		}, tensor: "rope_freqs.weight", flag: FlagRopeFreqs},
		{name: "bad kv heads", cfg: func(c *Config) { c.KVHeads = 3 }, flag: "num_kv_heads"},
		{name: "sliding list length", cfg: func(c *Config) { c.Sliding = []bool{true}; c.SlidingWindow = 4 }, flag: "sliding_layers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := gemma3Tiny()
			ts := tensorsFor(c)
			if tc.tensors != nil {
				ts = tc.tensors(c)
			}
			if tc.cfg != nil {
				tc.cfg(c)
			}
			ps := Validate(c, ts)
			require.NotEmpty(t, ps)
			found := false
			for _, p := range ps {
				if p.Tensor == tc.tensor && p.Flag == tc.flag {
					found = true
					if tc.tensor != "" {
						assert.Contains(t, p.Message, tc.tensor)
					}
					if tc.flag != "" {
						assert.Contains(t, p.Message, tc.flag)
					}
					if tc.msg != "" {
						assert.Contains(t, p.Message, tc.msg)
					}
				}
			}
			assert.True(t, found, "no problem for tensor %q flag %q in %v", tc.tensor, tc.flag, ps)
		})
	}
	t.Run("valid", func(t *testing.T) {
		c := gemma3Tiny()
		assert.Empty(t, Validate(c, tensorsFor(c)))
	})
}

func TestDeriveFlags(t *testing.T) {
	c := gemma3Tiny()
	ts := tensorsFor(c)
	d := &Config{}
	DeriveFlags(d, ts)
	assert.True(t, d.QKNorm && d.PostAttnNorm && d.PostFFNNorm && d.TiedEmbeddings)
	assert.False(t, d.RopeFreqs)
	DeriveFlags(d, append(ts, TensorInfo{Name: "output.weight"}, TensorInfo{Name: "rope_freqs.weight"}))
	assert.False(t, d.TiedEmbeddings)
	assert.True(t, d.RopeFreqs)
}

func TestInvalidErrorMessage(t *testing.T) {
	c := gemma3Tiny()
	ts := tensorsFor(c)
	c.PostFFNNorm = false
	err := &InvalidError{Source: "m", Problems: Validate(c, ts)}
	msg := err.Error()
	assert.Contains(t, msg, "blk.0.post_ffw_norm.weight")
	assert.Contains(t, msg, "post_ffn_norm")
	assert.Contains(t, msg, fmt.Sprintf("(%d problem(s))", len(err.Problems)))
}
