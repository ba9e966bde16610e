package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/synth"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// llama.cpp's greedy continuation of "Once upon a time" (../shared/models/README.md).
var storiesGreedy = refdata.Stories260KGreedy()

const storiesText = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw"

func runCLI(t *testing.T, args ...string) (generation, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(args, &out, &errb)
	var g generation
	if code == 0 && bytes.HasPrefix(out.Bytes(), []byte("{")) {
		require.NoError(t, json.Unmarshal(out.Bytes(), &g), out.String())
	}
	return g, code, errb.String()
}

func TestGenerateCPU(t *testing.T) {
	p, err := refdata.Stories260K()
	stories := refdata.Must(t, p, err)
	base := []string{"generate", "--backend", "cpu", "--model", stories, "--json"}
	tests := []struct {
		name string
		args []string
		want generation
	}{
		{"tokens", []string{"--tokens", "1,403,407,261,378", "--max-tokens", "32", "--temperature", "0"}, generation{storiesGreedy, storiesText, "length"}},
		{"prompt", []string{"--prompt", "Once upon a time", "--max-tokens", "32"}, generation{storiesGreedy, storiesText, "length"}},
		{"max tokens", []string{"--tokens", "1,403,407,261,378", "--max-tokens", "3"}, generation{storiesGreedy[:3], ", there was", "length"}},
		{"top-k 1 is greedy at any temperature", []string{"--tokens", "1,403,407,261,378", "--max-tokens", "3", "--ignore-eos", "--top-k", "1", "--temperature", "2"}, generation{storiesGreedy[:3], ", there was", "length"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, code, msg := runCLI(t, append(base, tt.args...)...)
			require.Equal(t, 0, code, msg)
			assert.Equal(t, tt.want, g)
		})
	}

	t.Run("seeded sampling is deterministic", func(t *testing.T) {
		args := append(base, "--prompt", "Once upon a time", "--max-tokens", "40", "--temperature", "1", "--top-k", "40", "--top-p", "0.9")
		a, code, msg := runCLI(t, append(args, "--seed", "7")...)
		require.Equal(t, 0, code, msg)
		b, _, _ := runCLI(t, append(args, "--seed", "7")...)
		c, _, _ := runCLI(t, append(args, "--seed", "8")...)
		assert.Equal(t, a, b)
		assert.NotEqual(t, a.Tokens, c.Tokens)
		assert.Len(t, a.Tokens, 40)
	})

	errors := []struct {
		name string
		args []string
		code int
	}{
		{"no model", []string{"generate", "--backend", "cpu", "--tokens", "1"}, 2},
		{"prompt and tokens", append(base, "--tokens", "1", "--prompt", "x"), 2},
		{"neither", base, 2},
		{"chat without prompt", append(base, "--tokens", "1", "--chat"), 2},
		{"bad token", append(base, "--tokens", "1,x"), 2},
		{"token outside vocabulary", append(base, "--tokens", "1,512"), 1},
		{"bad backend", append(base, "--tokens", "1", "--backend", "tpu"), 2},
		{"f16 on cpu", append(base, "--tokens", "1", "--precision", "f16"), 1},
		{"missing model", []string{"generate", "--backend", "cpu", "--model", "/nonexistent.gguf", "--tokens", "1"}, 1},
	}
	for _, tt := range errors {
		t.Run(tt.name, func(t *testing.T) {
			_, code, msg := runCLI(t, tt.args...)
			assert.Equal(t, tt.code, code, msg)
			assert.NotEmpty(t, msg)
		})
	}
}

// The loop stops before a stop token and says so.
func TestGenerateStops(t *testing.T) {
	p, err := refdata.Stories260K()
	src, err := model.Open(refdata.Must(t, p, err))
	require.NoError(t, err)
	defer src.Close()
	be := ref.New()
	m, err := arch.Load(src, be)
	require.NoError(t, err)
	prompt := refdata.Stories260KPrompt()
	g, err := generate(m, be, prompt, 64, 10, func(id int32) bool { return id == storiesGreedy[2] }, sample.New(sample.Params{}))
	require.NoError(t, err)
	assert.Equal(t, &generation{Tokens: storiesGreedy[:2], Stop: "eos"}, g)

	// The cache length ends generation too.
	g, err = generate(m, be, prompt, len(prompt)+4, 10, nil, sample.New(sample.Params{}))
	require.NoError(t, err)
	assert.Equal(t, storiesGreedy[:5], g.Tokens)
	assert.Equal(t, "length", g.Stop)
}

func TestWebGPUMissing(t *testing.T) {
	saved := webgpuBackend
	webgpuBackend = nil
	defer func() { webgpuBackend = saved }()
	_, code, msg := runCLI(t, "logits", "--backend", "webgpu", "--model", "x.gguf", "--tokens", "1")
	assert.Equal(t, 1, code)
	assert.Contains(t, msg, "use --backend cpu")
}

// --chat wraps the prompt in the model's template: the same as feeding the
// template's tokens with --tokens.
func TestGenerateChat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gemma3.gguf")
	_, err := synth.WriteFile(path, synth.Options{Arch: "gemma3", Shape: "tiny", DType: "f32", Seed: 3})
	require.NoError(t, err)
	src, err := model.Open(path)
	require.NoError(t, err)
	tok, err := tokenizer.FromMetadata(src.Metadata())
	require.NoError(t, err)
	src.Close()
	ids, err := tok.ChatTokens([]tokenizer.Message{{Role: "user", Content: "Say hello"}}, true)
	require.NoError(t, err)
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.Itoa(int(id))
	}

	base := []string{"generate", "--backend", "cpu", "--model", path, "--max-tokens", "6", "--ignore-eos", "--json"}
	chat, code, msg := runCLI(t, append(base, "--prompt", "Say hello", "--chat")...)
	require.Equal(t, 0, code, msg)
	byTokens, code, msg := runCLI(t, append(base, "--tokens", strings.Join(strs, ","))...)
	require.Equal(t, 0, code, msg)
	assert.Equal(t, byTokens, chat)
	assert.Len(t, chat.Tokens, 6)
}
