package quant

import (
	"fmt"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type mixCase struct {
	name  string
	shape []int64
	want  dtype.DType
}

// Expected types worked out by hand from llama.cpp's llama_tensor_get_type
// (src/llama-quant.cpp) for LLAMA_FTYPE_MOSTLY_Q4_K_M.
func TestMixTypeLlama32_1B(t *testing.T) {
	// Llama 3.2 1B: hidden 2048, 16 layers, 8 KV heads of 64, FFN 8192,
	// tied embeddings. use_more_bits(i, 16): i < 2, i >= 14, (i-2)%3 == 2.
	m := MixModel{Layers: 16, TiedEmbeddings: true}
	moreBits := map[int]bool{0: true, 1: true, 4: true, 7: true, 10: true, 13: true, 14: true, 15: true}
	cases := []mixCase{
		{"token_embd.weight", []int64{2048, 128256}, dtype.Q6_K}, // tied: quantized like output
		{"output_norm.weight", []int64{2048}, dtype.F32},
		{"rope_freqs.weight", []int64{32}, dtype.F32},
	}
	for i := 0; i < 16; i++ {
		wide := dtype.Q4_K
		if moreBits[i] {
			wide = dtype.Q6_K
		}
		p := fmt.Sprintf("blk.%d.", i)
		cases = append(cases,
			mixCase{p + "attn_norm.weight", []int64{2048}, dtype.F32},
			mixCase{p + "ffn_norm.weight", []int64{2048}, dtype.F32},
			mixCase{p + "attn_q.weight", []int64{2048, 2048}, dtype.Q4_K},
			mixCase{p + "attn_k.weight", []int64{2048, 512}, dtype.Q4_K},
			mixCase{p + "attn_v.weight", []int64{2048, 512}, wide},
			mixCase{p + "attn_output.weight", []int64{2048, 2048}, dtype.Q4_K},
			mixCase{p + "ffn_gate.weight", []int64{2048, 8192}, dtype.Q4_K},
			mixCase{p + "ffn_up.weight", []int64{2048, 8192}, dtype.Q4_K},
			mixCase{p + "ffn_down.weight", []int64{8192, 2048}, wide},
		)
	}
	runMix(t, "q4_k_m", m, cases)
	// Without tying, token_embd keeps the base type and output.weight gets Q6_K.
	got, err := MixType("q4_k_m", "token_embd.weight", []int64{2048, 128256}, 16)
	require.NoError(t, err)
	assert.Equal(t, dtype.Q4_K, got)
	got, err = MixType("q4_k_m", "output.weight", []int64{2048, 128256}, 16)
	require.NoError(t, err)
	assert.Equal(t, dtype.Q6_K, got)
}

func TestMixTypeGemma3_270M(t *testing.T) {
	// Gemma 3 270M: hidden 640 (not a multiple of 256), 18 layers, 4 heads and
	// 1 KV head of 256, FFN 2048, tied embeddings. use_more_bits(i, 18):
	// i < 2, i >= 15, (i-2)%3 == 2. Rows of 640 fall back: Q4_K→Q5_0,
	// Q6_K→Q8_0; the tied embedding takes Q8_0 directly (640 % 256 != 0).
	m := MixModel{Layers: 18, TiedEmbeddings: true}
	moreBits := map[int]bool{0: true, 1: true, 4: true, 7: true, 10: true, 13: true, 15: true, 16: true, 17: true}
	cases := []mixCase{
		{"token_embd.weight", []int64{640, 262144}, dtype.Q8_0},
		{"output_norm.weight", []int64{640}, dtype.F32},
	}
	for i := 0; i < 18; i++ {
		v, down := dtype.Q5_0, dtype.Q4_K
		if moreBits[i] {
			v, down = dtype.Q8_0, dtype.Q6_K
		}
		p := fmt.Sprintf("blk.%d.", i)
		cases = append(cases,
			mixCase{p + "attn_norm.weight", []int64{640}, dtype.F32},
			mixCase{p + "post_attention_norm.weight", []int64{640}, dtype.F32},
			mixCase{p + "attn_q_norm.weight", []int64{256}, dtype.F32},
			mixCase{p + "attn_k_norm.weight", []int64{256}, dtype.F32},
			mixCase{p + "attn_q.weight", []int64{640, 1024}, dtype.Q5_0},
			mixCase{p + "attn_k.weight", []int64{640, 256}, dtype.Q5_0},
			mixCase{p + "attn_v.weight", []int64{640, 256}, v},
			mixCase{p + "attn_output.weight", []int64{1024, 640}, dtype.Q4_K},
			mixCase{p + "ffn_gate.weight", []int64{640, 2048}, dtype.Q5_0},
			mixCase{p + "ffn_up.weight", []int64{640, 2048}, dtype.Q5_0},
			mixCase{p + "ffn_down.weight", []int64{2048, 640}, down},
		)
	}
	runMix(t, "q4_k_m", m, cases)
}

func TestMixTypeMoE(t *testing.T) {
	// Mixtral-like: 32 layers, 8 experts, separate output. 8-expert models get
	// Q8_0 attn_k/attn_v and Q5_K attn_output; experts are 3-D and follow the
	// ffn_down layer rule (use_more_bits(i, 32): i < 4, i >= 28, (i-4)%3 == 2).
	mixtral := MixModel{Layers: 32, Experts: 8}
	runMix(t, "q4_k_m", mixtral, []mixCase{
		{"token_embd.weight", []int64{4096, 32000}, dtype.Q4_K},
		{"output.weight", []int64{4096, 32000}, dtype.Q6_K},
		{"blk.5.attn_v.weight", []int64{4096, 1024}, dtype.Q8_0},
		{"blk.5.attn_k.weight", []int64{4096, 1024}, dtype.Q8_0},
		{"blk.5.attn_q.weight", []int64{4096, 4096}, dtype.Q4_K},
		{"blk.5.attn_output.weight", []int64{4096, 4096}, dtype.Q5_K},
		{"blk.5.ffn_gate_inp.weight", []int64{4096, 8}, dtype.F32},
		{"blk.5.ffn_down_exps.weight", []int64{14336, 4096, 8}, dtype.Q4_K},
		{"blk.6.ffn_down_exps.weight", []int64{14336, 4096, 8}, dtype.Q6_K},
		{"blk.30.ffn_down_exps.weight", []int64{14336, 4096, 8}, dtype.Q6_K},
		{"blk.6.ffn_gate_exps.weight", []int64{4096, 14336, 8}, dtype.Q4_K},
		{"blk.6.ffn_up_exps.weight", []int64{4096, 14336, 8}, dtype.Q4_K},
	})
	// Qwen3-MoE-like: 128 experts get no 8-expert special case.
	qwen := MixModel{Layers: 48, Experts: 128}
	runMix(t, "q4_k_m", qwen, []mixCase{
		{"blk.7.attn_v.weight", []int64{2048, 512}, dtype.Q4_K},
		{"blk.5.attn_v.weight", []int64{2048, 512}, dtype.Q6_K}, // 5 < 48/8
		{"blk.6.attn_v.weight", []int64{2048, 512}, dtype.Q4_K}, // (6-6)%3 != 2
		{"blk.7.attn_k.weight", []int64{2048, 512}, dtype.Q4_K},
		{"blk.7.attn_output.weight", []int64{4096, 2048}, dtype.Q4_K},
		{"blk.8.ffn_down_exps.weight", []int64{768, 2048, 128}, dtype.Q6_K},
		{"blk.7.ffn_down_exps.weight", []int64{768, 2048, 128}, dtype.Q4_K},
	})
}

func TestMixTypeQ5KM(t *testing.T) {
	runMix(t, "q5_k_m", MixModel{Layers: 16}, []mixCase{
		{"blk.0.attn_v.weight", []int64{2048, 512}, dtype.Q6_K},
		{"blk.2.attn_v.weight", []int64{2048, 512}, dtype.Q5_K},
		{"blk.2.ffn_down.weight", []int64{8192, 2048}, dtype.Q5_K},
		{"blk.4.ffn_down.weight", []int64{8192, 2048}, dtype.Q6_K},
		{"output.weight", []int64{2048, 128256}, dtype.Q6_K},
		{"blk.2.attn_q.weight", []int64{640, 2048}, dtype.Q5_1}, // Q5_K falls back to Q5_1
	})
}

func runMix(t *testing.T, mix string, m MixModel, cases []mixCase) {
	t.Helper()
	for _, c := range cases {
		got, err := MixTypeFor(mix, c.name, c.shape, m)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, got, "%s %v", c.name, c.shape)
		// ChooseTypeFor routes mixes to MixTypeFor.
		got, err = ChooseTypeFor(mix, c.name, c.shape, m)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, got, "ChooseTypeFor %s", c.name)
	}
}

func TestChooseTypePlainTargets(t *testing.T) {
	cases := []struct {
		target string
		name   string
		shape  []int64
		want   dtype.DType
	}{
		{"f16", "blk.0.attn_q.weight", []int64{64, 64}, dtype.F16},
		{"bf16", "blk.0.attn_q.weight", []int64{64, 64}, dtype.BF16},
		{"f32", "blk.0.attn_q.weight", []int64{64, 64}, dtype.F32},
		{"F16", "blk.0.attn_norm.weight", []int64{64}, dtype.F32},
		{"q8_0", "blk.0.attn_q.weight", []int64{64, 64}, dtype.Q8_0},
		{"q8_0", "blk.0.attn_q.bias", []int64{64}, dtype.F32},
		{"q8_0", "blk.0.attn_q.weight", []int64{48, 64}, dtype.F16}, // rows not a multiple of 32
		{"q4_0", "token_embd.weight", []int64{64, 512}, dtype.Q4_0},
		{"q4_0", "output.weight", []int64{64, 512}, dtype.Q4_0}, // plain targets apply to every quantizable tensor
		{"q4_0", "blk.0.ffn_down.weight", []int64{172, 64}, dtype.F16},
		{"q4_k", "blk.0.attn_q.weight", []int64{256, 64}, dtype.Q4_K},
		{"q4_k", "blk.0.attn_q.weight", []int64{64, 64}, dtype.Q5_0},
		{"q5_k", "blk.0.attn_q.weight", []int64{64, 64}, dtype.Q5_1},
		{"q6_k", "blk.0.attn_q.weight", []int64{64, 64}, dtype.Q8_0},
		{"q6_k", "blk.0.attn_q.weight", []int64{512, 64}, dtype.Q6_K},
		{"q6_k", "blk.0.ffn_down.weight", []int64{172, 64}, dtype.F16},
		{"q4_k", "blk.0.attn_q.weight", []int64{256, 1}, dtype.F32}, // ggml counts it 1-D
		{"q4_k", "blk.0.ffn_gate_inp.weight", []int64{256, 8}, dtype.F32},
		{"q4_k_m", "blk.0.ffn_down.weight", []int64{172, 64}, dtype.F16}, // Q6_K → Q8_0 → F16
	}
	for _, c := range cases {
		got, err := ChooseType(c.target, c.name, c.shape, 5)
		require.NoError(t, err, "%s %s", c.target, c.name)
		assert.Equal(t, c.want, got, "%s %s %v", c.target, c.name, c.shape)
	}
}

func TestChooseTypeErrors(t *testing.T) {
	_, err := ChooseType("keep", "blk.0.attn_q.weight", []int64{64, 64}, 2)
	require.Error(t, err)
	_, err = ChooseType("q3_k", "blk.0.attn_q.weight", []int64{64, 64}, 2)
	require.Error(t, err)
	_, err = MixType("q2_k_s", "blk.0.attn_q.weight", []int64{256, 64}, 2)
	require.Error(t, err)
	_, err = MixType("q4_k_m", "blk.9.ffn_down.weight", []int64{256, 64}, 2) // layer out of range
	require.Error(t, err)
	_, err = MixType("q4_k_m", "ffn_down.weight", []int64{256, 64}, 2) // no layer
	require.Error(t, err)
	_, err = ChooseType("q8_0", "blk.0.attn_q.weight", nil, 2)
	require.Error(t, err)
	_, err = ChooseType("q8_0", "blk.0.attn_q.weight", []int64{64, 0}, 2)
	require.Error(t, err)
}

func TestNewMixModel(t *testing.T) {
	assert.Equal(t, MixModel{Layers: 2, TiedEmbeddings: true}, NewMixModel(2, 0, []string{"token_embd.weight", "blk.0.attn_q.weight"}))
	assert.Equal(t, MixModel{Layers: 2, Experts: 8}, NewMixModel(2, 8, []string{"token_embd.weight", "output.weight"}))
}

func TestUseMoreBits(t *testing.T) {
	var got []int
	for i := 0; i < 32; i++ {
		if useMoreBits(i, 32) {
			got = append(got, i)
		}
	}
	assert.Equal(t, []int{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}, got)
}
