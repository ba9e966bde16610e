package gguf

import (
	"bytes"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/dtype"
)

func TestStories260K(t *testing.T) {
	fh, f := openFile(t, stories(t))
	st, err := fh.Stat()
	require.NoError(t, err)

	assert.EqualValues(t, 3, f.Version)
	assert.EqualValues(t, 32, f.Alignment)
	assert.Len(t, f.KV, 19)
	wantStr := map[string]string{"general.architecture": "llama", "tokenizer.ggml.model": "llama", "general.name": "llama"}
	for k, v := range wantStr {
		got, ok := f.String(k)
		assert.True(t, ok, k)
		assert.Equal(t, v, got, k)
	}
	wantUint := map[string]uint64{
		"llama.block_count": 5, "llama.embedding_length": 64, "llama.feed_forward_length": 172,
		"llama.attention.head_count": 8, "llama.attention.head_count_kv": 4, "llama.rope.dimension_count": 8,
		"llama.context_length": 2048, "tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2,
		"tokenizer.ggml.unknown_token_id": 0,
	}
	for k, v := range wantUint {
		got, ok := f.Uint(k)
		assert.True(t, ok, k)
		assert.Equal(t, v, got, k)
	}
	eps, ok := f.Float("llama.attention.layer_norm_rms_epsilon")
	require.True(t, ok)
	assert.InDelta(t, 1e-5, eps, 1e-12)
	tokens, ok := f.Strings("tokenizer.ggml.tokens")
	require.True(t, ok)
	require.Len(t, tokens, 512)
	assert.Equal(t, []string{"<unk>", "<s>", "</s>"}, tokens[:3])
	assert.Equal(t, "▁Once", tokens[403])
	scores, ok := f.Get("tokenizer.ggml.scores")
	require.True(t, ok)
	assert.Len(t, scores, 512)
	assert.IsType(t, []float32{}, scores)

	require.Len(t, f.Tensors, 48)
	var params int64
	var end int64
	for _, ti := range f.Tensors {
		assert.Equal(t, dtype.F32, ti.Type, ti.Name)
		n, err := ti.Elements()
		require.NoError(t, err)
		params += n
		b, err := ti.Bytes()
		require.NoError(t, err)
		end = max(end, f.DataOffset+int64(ti.Offset)+b)
	}
	assert.EqualValues(t, 292800, params)
	assert.Equal(t, alignUp(end, 32), st.Size(), "tensor data runs to the end of the file")

	emb, ok := f.Tensor("token_embd.weight")
	require.True(t, ok)
	assert.Equal(t, []int64{64, 512}, emb.Shape)
	data, err := f.ReadTensor(fh, emb)
	require.NoError(t, err)
	require.Len(t, data, 64*512*4)
	norm, ok := f.Tensor("blk.4.ffn_norm.weight")
	require.True(t, ok)
	sec, err := f.TensorSection(fh, norm)
	require.NoError(t, err)
	nb, err := io.ReadAll(sec)
	require.NoError(t, err)
	require.Len(t, nb, 64*4)
	for i := 0; i < 64; i++ {
		v := math.Float32frombits(le32(nb[i*4:]))
		assert.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0))
	}
	_, ok = f.Tensor("nope")
	assert.False(t, ok)
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// The tokenizer suite's vocab-only files: no tensors, token counts and
// tokenizer models as its README lists them.
func TestVocabFiles(t *testing.T) {
	want := map[string]struct {
		model  string
		tokens int
	}{
		"llama-spm": {"llama", 32000}, "phi-3": {"llama", 32064}, "gpt-2": {"gpt2", 50257},
		"llama-bpe": {"gpt2", 128256}, "qwen2": {"gpt2", 151936}, "qwen35": {"gpt2", 151936},
		"gemma-4": {"gemma4", 262144},
	}
	files := vocabFiles(t)
	for _, p := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "ggml-vocab-"), ".gguf")
		t.Run(name, func(t *testing.T) {
			w, known := want[name]
			require.True(t, known, "unexpected vocab file %s", p)
			fh, f := openFile(t, p)
			st, _ := fh.Stat()
			assert.Empty(t, f.Tensors)
			assert.Equal(t, st.Size(), f.DataOffset, "vocab-only files end after the metadata")
			model, _ := f.String("tokenizer.ggml.model")
			assert.Equal(t, w.model, model)
			tokens, ok := f.Strings("tokenizer.ggml.tokens")
			require.True(t, ok)
			assert.Len(t, tokens, w.tokens)
			types, ok := f.Get("tokenizer.ggml.token_type")
			require.True(t, ok)
			assert.Len(t, types, w.tokens)
			_, ok = f.String("general.architecture")
			assert.True(t, ok)
		})
	}
	assert.Len(t, files, len(want))
}

// rewrite reads a file and writes all of it back with the Writer.
func rewrite(t testing.TB, r io.ReaderAt, f *File) []byte {
	w := NewWriter()
	for _, kv := range f.KV {
		w.Set(kv.Key, kv.Value)
	}
	for _, ti := range f.Tensors {
		sec, err := f.TensorSection(r, ti)
		require.NoError(t, err)
		require.NoError(t, w.AddTensorFunc(ti.Name, ti.Shape, ti.Type, func(dst io.Writer) error {
			_, err := io.Copy(dst, sec)
			return err
		}))
	}
	var buf bytes.Buffer
	_, err := w.WriteTo(&buf)
	require.NoError(t, err)
	return buf.Bytes()
}

// Reading a llama.cpp-written file and writing it back gives the same bytes.
func TestRewriteIdentical(t *testing.T) {
	paths := append([]string{stories(t)}, vocabFiles(t)...)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			orig, err := os.ReadFile(p)
			require.NoError(t, err)
			f, err := readBytes(orig)
			require.NoError(t, err)
			got := rewrite(t, bytes.NewReader(orig), f)
			require.Equal(t, len(orig), len(got))
			require.True(t, bytes.Equal(orig, got), "rewritten %s differs", p)
		})
	}
}

// ReadHeader on a stream agrees with Read and leaves the reader at the data.
func TestReadHeaderStreaming(t *testing.T) {
	small, _ := sampleFile(t, 64)
	cases := map[string][]byte{"sample": small}
	spm := filepath.Join(filepath.Dir(vocabFiles(t)[0]), "ggml-vocab-llama-spm.gguf")
	for _, p := range []string{stories(t), spm} {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		cases[filepath.Base(p)] = b
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := readBytes(data)
			require.NoError(t, err)
			// iotest-style one-byte reads catch any over-read.
			r := &oneByteReader{r: bytes.NewReader(data)}
			got, err := ReadHeader(r)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, want.DataOffset, r.n, "consumed exactly the header and padding")
		})
	}
}

type oneByteReader struct {
	r io.Reader
	n int64
}

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := o.r.Read(p[:1])
	o.n += int64(n)
	return n, err
}

func TestReadFile(t *testing.T) {
	_, want := openFile(t, stories(t))
	got, err := ReadFile(stories(t))
	require.NoError(t, err)
	assert.Equal(t, want, got)

	_, err = ReadFile(filepath.Join(t.TempDir(), "missing.gguf"))
	require.ErrorIs(t, err, fs.ErrNotExist)

	data, err := os.ReadFile(stories(t))
	require.NoError(t, err)
	cut := filepath.Join(t.TempDir(), "cut.gguf")
	require.NoError(t, os.WriteFile(cut, data[:len(data)/2], 0o644))
	_, err = ReadFile(cut)
	require.Error(t, err, "a truncated file is refused: its tensors reach past its end")
}
