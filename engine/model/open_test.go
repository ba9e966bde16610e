package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenStories260K(t *testing.T) {
	sp, err := refdata.Stories260K()
	p := refdata.Must(t, sp, err)
	src, err := Open(p)
	require.NoError(t, err)
	defer src.Close()
	c := src.Config()
	// Values from ../shared/models/README.md.
	assert.Equal(t, ArchLlama, c.Architecture)
	assert.Equal(t, 5, c.Layers)
	assert.Equal(t, 64, c.Hidden)
	assert.Equal(t, 172, c.FFN)
	assert.Equal(t, 8, c.Heads)
	assert.Equal(t, 4, c.KVHeads)
	assert.Equal(t, 8, c.HeadDim)
	assert.Equal(t, 8, c.RopeDim)
	assert.Equal(t, 1e-5, c.NormEps)
	assert.Equal(t, 2048, c.ContextLength)
	assert.Equal(t, 512, c.VocabSize)
	assert.Equal(t, RopeNormal, c.RopeStyle)
	assert.Equal(t, "silu", c.Activation)
	assert.False(t, c.TiedEmbeddings)
	assert.False(t, c.QKNorm || c.PostAttnNorm || c.PostFFNNorm || c.RopeFreqs)
	assert.Zero(t, c.Experts)
	require.Len(t, src.Tensors(), 48)
	params := int64(0)
	for _, ti := range src.Tensors() {
		assert.Equal(t, dtype.F32, ti.DType, ti.Name)
		params += ti.Elements()
	}
	assert.Equal(t, int64(292800), params)
	b, err := src.ReadTensor("blk.0.attn_q.weight")
	require.NoError(t, err)
	assert.Len(t, b, 64*64*4)
	assert.Equal(t, "llama", src.Metadata()["tokenizer.ggml.model"])
	_, err = src.ReadTensor("nope")
	assert.Error(t, err)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir)
	assert.ErrorContains(t, err, "not a model folder")
	_, err = Open(filepath.Join(dir, "missing.gguf"))
	assert.Error(t, err)
}

func TestOpenVocabOnlyGGUF(t *testing.T) {
	w := gguf.NewWriter()
	w.Set("general.architecture", "llama")
	w.Set("tokenizer.ggml.model", "llama")
	w.Set("tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>", "a"})
	w.Set("tokenizer.ggml.bos_token_id", uint32(1))
	p := filepath.Join(t.TempDir(), "vocab.gguf")
	f, err := os.Create(p)
	require.NoError(t, err)
	_, err = w.WriteTo(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	src, err := Open(p)
	require.NoError(t, err)
	defer src.Close()
	assert.Empty(t, src.Tensors())
	assert.Equal(t, ArchLlama, src.Config().Architecture)
	assert.Equal(t, []string{"<unk>", "<s>", "</s>", "a"}, src.Metadata()["tokenizer.ggml.tokens"])
	_, err = Convert(src, nil, "x", ConvertOptions{})
	assert.ErrorContains(t, err, "vocab-only")
}

func TestOpenPathForms(t *testing.T) {
	d := hfDir(t, "qwen3-f32")
	for _, p := range []string{d, filepath.Join(d, "config.json"), d + "/"} {
		src, err := Open(p)
		require.NoError(t, err, p)
		assert.Equal(t, ArchQwen3, src.Config().Architecture)
	}
	_, err := Open(filepath.Join(hfDir(t, "qwen3-f32"), "reference.json"))
	assert.ErrorContains(t, err, "not a GGUF file")
}
