package model

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hfDir(t *testing.T, name string) string {
	d, err := refdata.HFFixturesDir()
	return filepath.Join(refdata.Must(t, d, err), name)
}

func TestHFFixturesOpen(t *testing.T) {
	cases := []struct {
		dir        string
		arch       string
		layers     int
		dt         dtype.DType
		tied       bool
		qkNorm     bool
		sandwich   bool
		experts    int
		used       int
		expertFFN  int
		style      RopeStyle
		act        string
		sliding    []bool
		attnScale  float64
		softcaps   [2]float64
		ropeTheta  float64
		localTheta float64
		ropeFreqs  bool
	}{
		{dir: "gemma3-f32", arch: ArchGemma3, layers: 6, dt: dtype.F32, tied: true, qkNorm: true, sandwich: true, style: RopeNeoX, act: "gelu_tanh",
			sliding: []bool{true, true, true, true, true, false}, attnScale: 0.125, ropeTheta: 1e6, localTheta: 1e4},
		{dir: "gemma3-bf16-sharded", arch: ArchGemma3, layers: 6, dt: dtype.BF16, tied: true, qkNorm: true, sandwich: true, style: RopeNeoX, act: "gelu_tanh",
			sliding: []bool{true, true, true, true, true, false}, attnScale: 0.125, ropeTheta: 1e6, localTheta: 1e4},
		{dir: "gemma2-bf16", arch: ArchGemma2, layers: 4, dt: dtype.BF16, tied: true, sandwich: true, style: RopeNeoX, act: "gelu_tanh",
			sliding: []bool{true, false, true, false}, attnScale: 0.125, softcaps: [2]float64{50, 30}, ropeTheta: 1e4},
		{dir: "llama3-ropescaled-f16", arch: ArchLlama, layers: 3, dt: dtype.F16, tied: true, style: RopeNormal, act: "silu", ropeTheta: 500000, ropeFreqs: true},
		{dir: "qwen3-f32", arch: ArchQwen3, layers: 3, dt: dtype.F32, tied: true, qkNorm: true, style: RopeNeoX, act: "silu", ropeTheta: 1e4},
		{dir: "mixtral-f32", arch: ArchMixtral, layers: 2, dt: dtype.F32, experts: 4, used: 2, expertFFN: 512, style: RopeNormal, act: "silu", ropeTheta: 1e6},
		{dir: "qwen3moe-f32", arch: ArchQwen3MoE, layers: 2, dt: dtype.F32, qkNorm: true, experts: 8, used: 2, expertFFN: 128, style: RopeNeoX, act: "silu", ropeTheta: 1e4},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			src, err := Open(hfDir(t, tc.dir))
			require.NoError(t, err)
			defer src.Close()
			c := src.Config()
			assert.Empty(t, Validate(c, src.Tensors()))
			assert.Equal(t, tc.arch, c.Architecture)
			assert.Equal(t, tc.layers, c.Layers)
			assert.Equal(t, 256, c.Hidden)
			assert.Equal(t, 4, c.Heads)
			assert.Equal(t, 2, c.KVHeads)
			assert.Equal(t, 64, c.HeadDim)
			assert.Equal(t, 512, c.VocabSize)
			assert.Equal(t, tc.tied, c.TiedEmbeddings)
			assert.Equal(t, tc.qkNorm, c.QKNorm)
			assert.Equal(t, tc.sandwich, c.PostAttnNorm)
			assert.Equal(t, tc.sandwich, c.PostFFNNorm)
			assert.Equal(t, tc.experts, c.Experts)
			assert.Equal(t, tc.used, c.ExpertsUsed)
			assert.Equal(t, tc.expertFFN, c.ExpertFFN)
			assert.Equal(t, tc.experts > 0, c.NormTopKProb)
			assert.Equal(t, tc.style, c.RopeStyle)
			assert.Equal(t, tc.act, c.Activation)
			assert.Equal(t, tc.sliding, c.Sliding)
			assert.Equal(t, tc.attnScale, c.AttnScale)
			assert.Equal(t, tc.softcaps, [2]float64{c.AttnSoftcap, c.FinalSoftcap})
			assert.Equal(t, tc.ropeTheta, c.RopeTheta)
			assert.Equal(t, tc.localTheta, c.RopeLocalTheta)
			assert.Equal(t, tc.ropeFreqs, c.RopeFreqs)
			// Every fixture is stored in the dtype its config declares.
			assert.Equal(t, map[dtype.DType]string{dtype.F32: "float32", dtype.BF16: "bfloat16", dtype.F16: "float16"}[tc.dt], c.HFDType)
			assert.Equal(t, tc.dt, c.HFComputeDType())
			if tc.sliding != nil {
				assert.Equal(t, 6, c.SlidingWindow)
			}
			for _, ti := range src.Tensors() {
				b, err := src.ReadTensor(ti.Name)
				require.NoError(t, err, ti.Name)
				n, err := ti.Bytes()
				require.NoError(t, err)
				assert.Len(t, b, int(n), ti.Name)
				want := tc.dt
				if len(ti.Shape) == 1 { // norms and rope_freqs: always F32
					want = dtype.F32
				}
				assert.Equal(t, want, ti.DType, ti.Name)
			}
		})
	}
}

// Both config styles of the same Gemma 3 weights give one Config.
func TestHFConfigStylesAgree(t *testing.T) {
	fsys, rel5, err := NativeFS(hfDir(t, "gemma3-f32"))
	require.NoError(t, err)
	_, rel4, err := NativeFS(hfDir(t, "gemma3-f32-config4x"))
	require.NoError(t, err)
	s5, err := OpenHF(fsys, rel5, rel5, Options{})
	require.NoError(t, err)
	s4, err := OpenHF(fsys, rel4, rel5, Options{})
	require.NoError(t, err)
	assert.Equal(t, s5.Config(), s4.Config())
	assert.Equal(t, 1024, s4.Config().ContextLength)
}

// config.json names the checkpoint dtype as "dtype" (5.x) or "torch_dtype"
// (4.x); only the half-precision ones change how constants are rounded.
func TestHFConfigDType(t *testing.T) {
	tests := []struct {
		field, value string
		want         string
		compute      dtype.DType
	}{
		{"dtype", "bfloat16", "bfloat16", dtype.BF16},
		{"torch_dtype", "bfloat16", "bfloat16", dtype.BF16},
		{"torch_dtype", "float16", "float16", dtype.F16},
		{"dtype", "float32", "float32", dtype.F32},
		{"torch_dtype", "auto", "", dtype.F32},
		{"", "", "", dtype.F32},
	}
	for _, tt := range tests {
		cfg := `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"vocab_size":32`
		if tt.field != "" {
			cfg += `,"` + tt.field + `":"` + tt.value + `"`
		}
		c, err := ConfigFromHF([]byte(cfg + "}"))
		require.NoError(t, err)
		assert.Equal(t, tt.want, c.HFDType, "%s=%s", tt.field, tt.value)
		assert.Equal(t, tt.compute, c.HFComputeDType(), "%s=%s", tt.field, tt.value)
	}
}

func TestGemmaNormsAddOne(t *testing.T) {
	src, err := Open(hfDir(t, "gemma3-f32"))
	require.NoError(t, err)
	got, err := src.ReadTensor("blk.0.attn_q_norm.weight")
	require.NoError(t, err)
	raw, err := src.(*hfSource).folder.ReadTensor(src.(*hfSource).byName["blk.0.attn_q_norm.weight"].parts[0])
	require.NoError(t, err)
	for i := 0; i < 64; i++ {
		w := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		g := math.Float32frombits(binary.LittleEndian.Uint32(got[4*i:]))
		require.Equal(t, 1+w, g)
	}
}

func TestPermuteRows(t *testing.T) {
	// 2 heads of 4 rows, 1 byte per row: HF order [a0 a1 b0 b1] per head
	// (first half, second half) → llama.cpp [a0 b0 a1 b1].
	in := []byte{0, 1, 2, 3, 10, 11, 12, 13}
	out, err := permuteRows(in, 2, 8)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 2, 1, 3, 10, 12, 11, 13}, out)
	_, err = permuteRows(in, 3, 8)
	assert.Error(t, err)
}

func TestLlama3RopeFreqs(t *testing.T) {
	c := &Config{RopeDim: 64, RopeTheta: 500000, RopeScaling: &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContextLen: 64}}
	b := Llama3RopeFreqs(c)
	require.Len(t, b, 32*4)
	first := math.Float32frombits(binary.LittleEndian.Uint32(b))
	last := math.Float32frombits(binary.LittleEndian.Uint32(b[31*4:]))
	assert.Equal(t, float32(1), first) // high frequency: unscaled
	assert.Equal(t, float32(8), last)  // low frequency: divided by factor
	for i := 1; i < 32; i++ {          // monotone between
		a := math.Float32frombits(binary.LittleEndian.Uint32(b[(i-1)*4:]))
		z := math.Float32frombits(binary.LittleEndian.Uint32(b[i*4:]))
		assert.LessOrEqual(t, a, z)
	}
}

func TestHFConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"unknown arch", `{"architectures":["GPT2LMHeadModel"],"model_type":"gpt2"}`, "unsupported architecture"},
		{"bias", `{"architectures":["LlamaForCausalLM"],"attention_bias":true}`, "biases"},
		{"rope yarn", `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"num_attention_heads":4,"rope_scaling":{"rope_type":"yarn","factor":4}}`, "yarn"},
		{"bad json", `{`, "config.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfigFromHF([]byte(tc.json))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// An HF folder with tokenizer files carries the tokenizer as GGUF-style
// metadata, and conversion keeps it with its value types.
func TestHFTokenizerMetadata(t *testing.T) {
	dir := t.TempDir()
	src := hfDir(t, "qwen3-f32")
	cfg, err := os.ReadFile(filepath.Join(src, "config.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644))
	require.NoError(t, os.Symlink(filepath.Join(src, "model.safetensors"), filepath.Join(dir, "model.safetensors")))
	tok := `{"added_tokens":[{"id":3,"content":"<|im_end|>","special":true}],
		"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
		"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(tok), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"),
		[]byte(`{"eos_token":"<|im_end|>","chat_template":"{{ messages }}"}`), 0o644))

	s, err := Open(dir)
	require.NoError(t, err)
	md := s.Metadata()
	assert.Equal(t, "qwen3", md["general.architecture"])
	assert.Equal(t, "gpt2", md["tokenizer.ggml.model"])
	assert.Equal(t, []string{"a", "b", "ab", "<|im_end|>"}, md["tokenizer.ggml.tokens"])
	assert.Equal(t, uint32(3), md["tokenizer.ggml.eos_token_id"])
	assert.Equal(t, "{{ messages }}", md["tokenizer.chat_template"])

	out, _ := convertNative(t, s, ConvertOptions{ShardSize: 1 << 20})
	back, err := Open(out)
	require.NoError(t, err)
	assert.Equal(t, md, back.Metadata())
	sum := TokenizerSummary(back.Metadata())
	require.NotNil(t, sum)
	assert.Equal(t, 4, sum.VocabSize)
	assert.True(t, sum.HasChatTemplate)
}
