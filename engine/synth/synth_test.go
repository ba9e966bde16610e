package synth

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/tokenizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSynthTinyRoundTrip(t *testing.T) {
	dtypes := append([]string{"keep"}, model.DTypeTargets...)
	for _, arch := range Archs {
		for _, dt := range dtypes {
			t.Run(arch+"/"+dt, func(t *testing.T) {
				o := Options{Arch: arch, Shape: "tiny", DType: dt, Seed: 7}
				t.Parallel()
				var a bytes.Buffer
				res, err := Write(&a, o)
				require.NoError(t, err)
				assert.Equal(t, int64(a.Len()), res.Bytes)
				if dt == "keep" || dt == "q8_0" { // generator determinism; quantizers are tested in quant
					var b bytes.Buffer
					_, err = Write(&b, o)
					require.NoError(t, err)
					assert.Equal(t, sha256.Sum256(a.Bytes()), sha256.Sum256(b.Bytes()), "not deterministic")
				}

				src, err := model.NewGGUFSource(bytes.NewReader(a.Bytes()), int64(a.Len()), nil)
				require.NoError(t, err)
				assert.Empty(t, model.Validate(src.Config(), src.Tensors()))
				want, err := Config(o)
				require.NoError(t, err)
				assert.Equal(t, want, src.Config())
				var params int64
				for _, ti := range src.Tensors() {
					if ti.Name != "rope_freqs.weight" {
						params += ti.Elements()
					}
					wt, err := model.TargetType(dt, model.TensorInfo{Name: ti.Name, Shape: ti.Shape, DType: dtype.F32}, want.Layers)
					require.NoError(t, err)
					if len(ti.Shape) == 1 {
						wt = dtype.F32
					}
					assert.Equal(t, wt, ti.DType, ti.Name)
				}
				assert.Equal(t, res.Params, params)
				md := src.Metadata()
				assert.Len(t, md["tokenizer.ggml.tokens"], 4096)
				assert.NotEmpty(t, md["tokenizer.chat_template"])
			})
		}
	}
}

func TestSynthSeedsDiffer(t *testing.T) {
	var a, b bytes.Buffer
	_, err := Write(&a, Options{Arch: "qwen3", Shape: "tiny", Seed: 1})
	require.NoError(t, err)
	_, err = Write(&b, Options{Arch: "qwen3", Shape: "tiny", Seed: 2})
	require.NoError(t, err)
	assert.NotEqual(t, a.Bytes(), b.Bytes())
}

func TestSynthErrors(t *testing.T) {
	for _, o := range []Options{{Arch: "gpt2", Shape: "tiny"}, {Shape: "tiny"}, {Arch: "llama", Shape: "gemma3-1b"}, {Arch: "gemma3", Shape: "huge"}, {Arch: "gemma3", Shape: "tiny", DType: "q3_k"}} {
		_, err := Write(&bytes.Buffer{}, o)
		assert.Error(t, err, "%+v", o)
	}
}

func TestSynthWriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.gguf")
	res, err := WriteFile(p, Options{Arch: "gemma3", Shape: "tiny", DType: "q8_0", Seed: 3})
	require.NoError(t, err)
	src, err := model.Open(p)
	require.NoError(t, err)
	defer src.Close()
	assert.Equal(t, "gemma3", src.Config().Architecture)
	assert.Greater(t, res.Params, int64(1_000_000))
}

// The bytes are pinned: the same on every platform and Go version. A change
// here means files generated before differ (update the hash on purpose).
func TestSynthGolden(t *testing.T) {
	var a bytes.Buffer
	_, err := Write(&a, Options{Arch: "qwen3", Shape: "tiny", DType: "q8_0", Seed: 42})
	require.NoError(t, err)
	assert.Equal(t, "da29945b11d6dedc0d84f745491c383bb4c2b89452982190bc11a6d5c5ab9134", fmt.Sprintf("%x", sha256.Sum256(a.Bytes())))
}

// Real shapes: valid configs whose parameter counts equal the published
// models' (tied embeddings counted once).
func TestRealShapes(t *testing.T) {
	want := map[string]int64{
		"gemma3-270m": 268_098_176,
		"gemma3-1b":   999_885_952,
		"gemma2-2b":   2_614_341_888,
		"qwen3-0.6b":  596_049_920,
		"llama3.2-1b": 1_235_814_400,
	}
	for _, shape := range Shapes()[1:] {
		t.Run(shape, func(t *testing.T) {
			c, err := Config(Options{Shape: shape})
			require.NoError(t, err)
			ts := model.ExpectedTensors(c)
			for i := range ts {
				ts[i].DType = dtype.F32
			}
			assert.Empty(t, model.Validate(c, ts))
			var params int64
			for _, p := range plan(c) {
				if p.kind != weightRopeFreqs {
					params += p.info.Elements()
				}
			}
			assert.Equal(t, want[shape], params)
		})
	}
}

// Writing a real shape takes seconds of CPU (tens under load): run it with
// DOPPLER_SLOW_TESTS=1.
func TestRealShapeWrite(t *testing.T) {
	if os.Getenv("DOPPLER_SLOW_TESTS") == "" {
		t.Skip("set DOPPLER_SLOW_TESTS=1 to write a gemma3-270m q4_k_m model")
	}
	p := filepath.Join(t.TempDir(), "g.gguf")
	res, err := WriteFile(p, Options{Shape: "gemma3-270m", DType: "q4_k_m", Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, int64(268_098_176), res.Params)
	src, err := model.Open(p)
	require.NoError(t, err)
	defer src.Close()
	assert.Equal(t, 262144, src.Config().VocabSize)
}

// The vocabularies tokenize like llama.cpp does on the same files (ids
// recorded with node-llama-cpp 3.21.1 from tiny synth models; the prompt
// "Once upon a time, the girl" with the model's BOS rule).
func TestSynthVocabMatchesLlamaCpp(t *testing.T) {
	cases := map[string][]int32{
		"gemma3":   {2, 394, 285, 287, 309, 303, 298, 327, 314, 311, 291, 351, 262, 312, 358, 291, 300, 294},
		"llama":    {3840, 336, 99, 101, 32, 117, 112, 273, 260, 257, 105, 297, 44, 258, 302, 105, 114, 108},
		"mixtral":  {1, 308, 393, 284, 286, 308, 302, 297, 326, 313, 310, 290, 350, 261, 311, 357, 290, 299, 293},
		"qwen3moe": {336, 99, 101, 32, 117, 112, 273, 260, 257, 105, 297, 44, 258, 302, 105, 114, 108},
	}
	for arch, want := range cases {
		t.Run(arch, func(t *testing.T) {
			family, _ := tokenizerFamily(arch)
			v, err := buildVocab(family, 4096)
			require.NoError(t, err)
			tok, err := tokenizer.FromMetadata(vocabMetadata(t, arch, v, ""))
			require.NoError(t, err)
			assert.Equal(t, want, tok.Encode("Once upon a time, the girl", true))
		})
	}
}

// Every family's template is the real one, and the tokenizer package
// renders each of them.
func TestSynthChatTemplates(t *testing.T) {
	want := map[string]string{
		"gemma": tokenizer.TemplateGemma, "gemma2": tokenizer.TemplateGemma, "gemma3": tokenizer.TemplateGemma,
		"llama": tokenizer.TemplateLlama3, "qwen3": tokenizer.TemplateQwen3, "qwen3moe": tokenizer.TemplateQwen3,
		"mixtral": tokenizer.TemplateMistral,
	}
	for _, arch := range Archs {
		family, name := tokenizerFamily(arch)
		text, err := chatTemplate(name)
		require.NoError(t, err)
		tmpl := []byte(text)
		v, err := buildVocab(family, 4096)
		require.NoError(t, err)
		for _, turn := range []string{"<start_of_turn>", "<|start_header_id|>", "<|im_start|>", "[INST]"} {
			if bytes.Contains(tmpl, []byte(turn)) {
				assert.Contains(t, v.tokens, turn, "%s: the template's turn token must be in the vocabulary", arch)
			}
		}
		md := vocabMetadata(t, arch, v, text)
		tok, err := tokenizer.FromMetadata(md)
		require.NoError(t, err, arch)
		got, err := tok.TemplateName()
		require.NoError(t, err, arch)
		assert.Equal(t, want[arch], got, arch)
		chat, err := tok.Chat([]tokenizer.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}, true)
		require.NoError(t, err, arch)
		assert.Contains(t, chat, "Be brief.", arch)
	}
}

// The templates synth keeps itself are the models' published ones: the
// tokenizer package's copies of Gemma 2's, Gemma 3's and Qwen3's
// tokenizer_config.json (the others come from tokenizer.ReferenceTemplate).
func TestSynthTemplatesArePublished(t *testing.T) {
	for file, config := range map[string]string{"gemma.jinja": "gemma2", "gemma3.jinja": "gemma3", "qwen3.jinja": "qwen3"} {
		f, err := os.Open(filepath.Join("..", "tokenizer", "testdata", config, "tokenizer_config.json.gz"))
		require.NoError(t, err)
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		var c struct {
			ChatTemplate string `json:"chat_template"`
		}
		require.NoError(t, json.NewDecoder(zr).Decode(&c))
		f.Close()
		got, err := chatTemplate(file)
		require.NoError(t, err)
		assert.Equal(t, c.ChatTemplate, got, file)
	}
}

// vocabMetadata writes v into a tensor-less GGUF and reads its metadata back.
func vocabMetadata(t *testing.T, arch string, v *vocab, tmpl string) map[string]any {
	var buf bytes.Buffer
	w := gguf.NewWriter()
	w.Set("general.architecture", model.GGUFArch(arch))
	setVocab(w, v)
	if tmpl != "" {
		w.Set("tokenizer.chat_template", tmpl)
	}
	_, err := w.WriteTo(&buf)
	require.NoError(t, err)
	f, err := gguf.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	return f.Metadata()
}
