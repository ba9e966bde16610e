package model

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/hack-pad/hackpadfs/mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// convertNative converts src into a temp dir of the OS file system.
func convertNative(t *testing.T, src Source, o ConvertOptions) (string, *ConvertResult) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shards")
	fsys, rel, err := NativeFS(dir)
	require.NoError(t, err)
	res, err := Convert(src, fsys, rel, o)
	require.NoError(t, err)
	return dir, res
}

func requireSameModel(t *testing.T, a, b Source) {
	t.Helper()
	require.Equal(t, a.Config(), b.Config())
	require.Equal(t, a.Tensors(), b.Tensors())
	for _, ti := range a.Tensors() {
		x, err := a.ReadTensor(ti.Name)
		require.NoError(t, err)
		y, err := b.ReadTensor(ti.Name)
		require.NoError(t, err)
		require.Equal(t, x, y, ti.Name)
	}
}

func TestConvertRoundTripHF(t *testing.T) {
	root, err := refdata.HFFixturesDir()
	refdata.Must(t, root, err)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "gemma3-f32-config4x" { // no weights of its own
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			src, err := Open(filepath.Join(root, e.Name()))
			require.NoError(t, err)
			dir, res := convertNative(t, src, ConvertOptions{ShardSize: 1 << 20})
			assert.Greater(t, res.Shards, 1)
			assert.Equal(t, filepath.Join(dir, "manifest.json"), "/"+res.Manifest)
			back, err := Open(dir)
			require.NoError(t, err)
			requireSameModel(t, src, back)
			assert.Equal(t, src.Metadata(), back.Metadata())
			require.NoError(t, back.(Verifier).Verify())
		})
	}
	assert.Equal(t, 7, n)
}

func TestConvertRoundTripGGUFMemFS(t *testing.T) {
	p, err := refdata.Stories260K()
	src, err := Open(refdata.Must(t, p, err))
	require.NoError(t, err)
	fsys, err := mem.NewFS()
	require.NoError(t, err)
	res, err := Convert(src, fsys, "models/stories", ConvertOptions{ShardSize: 256 << 10})
	require.NoError(t, err)
	assert.Equal(t, "models/stories/manifest.json", res.Manifest)
	back, err := OpenFS(fsys, "models/stories")
	require.NoError(t, err)
	requireSameModel(t, src, back)
	// Metadata keeps GGUF value types (metadata.gguf), minus file-format keys.
	want := src.Metadata()
	delete(want, "general.file_type")
	delete(want, "general.quantization_version")
	delete(want, "general.alignment")
	assert.Equal(t, want, back.Metadata())
}

func TestConvertDType(t *testing.T) {
	p, err := refdata.Stories260K()
	src, err := Open(refdata.Must(t, p, err))
	require.NoError(t, err)
	for _, target := range []string{"f16", "q8_0"} {
		t.Run(target, func(t *testing.T) {
			dir, _ := convertNative(t, src, ConvertOptions{DType: target})
			back, err := Open(dir)
			require.NoError(t, err)
			assert.Equal(t, src.Config(), back.Config())
			for _, ti := range back.Tensors() {
				want, err := TargetType(target, ti, src.Config().Layers)
				require.NoError(t, err)
				assert.Equal(t, want, ti.DType, ti.Name)
				if len(ti.Shape) == 1 {
					assert.Equal(t, dtype.F32, ti.DType, ti.Name)
				}
			}
		})
	}
}

func TestShardCorruption(t *testing.T) {
	p, err := refdata.Stories260K()
	src, err := Open(refdata.Must(t, p, err))
	require.NoError(t, err)
	cases := []struct {
		name   string
		damage func(path string) error
		want   string
	}{
		{"flipped byte", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 0x40
			return os.WriteFile(p, b, 0o644)
		}, "SHA-256"},
		{"truncated", func(p string) error { return os.Truncate(p, 1000) }, "bytes, the manifest says"},
		{"missing", os.Remove, "shard-00001.bin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := convertNative(t, src, ConvertOptions{ShardSize: 256 << 10})
			require.NoError(t, tc.damage(filepath.Join(dir, shards.ShardName(1))))
			back, err := Open(dir)
			require.NoError(t, err)
			// Tensors of shard 0 still read; the first read of shard 1 fails.
			_, err = back.ReadTensor("token_embd.weight")
			require.NoError(t, err)
			var failed error
			for _, ti := range back.Tensors() {
				if _, err := back.ReadTensor(ti.Name); err != nil {
					failed = err
					break
				}
			}
			require.Error(t, failed)
			assert.ErrorContains(t, failed, "shard-00001.bin")
			assert.ErrorContains(t, failed, tc.want)
			assert.ErrorContains(t, failed, "download or convert the model again")
			var ce *shards.CorruptError
			assert.ErrorAs(t, failed, &ce)
			assert.Error(t, back.(Verifier).Verify())
		})
	}
}

func TestIncompleteShardFolder(t *testing.T) {
	p, err := refdata.Stories260K()
	src, err := Open(refdata.Must(t, p, err))
	require.NoError(t, err)
	dir, _ := convertNative(t, src, ConvertOptions{})
	require.NoError(t, os.Remove(filepath.Join(dir, "manifest.json")))
	_, err = Open(dir)
	assert.ErrorContains(t, err, "not a model folder")
}

// HF folders exported as GGUF read back with the same Config (Llama 3
// scaling then lives in rope_freqs alone, as in llama.cpp's files) and the
// same tensor bytes: the GGUF and HF readers agree on every architecture.
func TestWriteGGUFRoundTripHF(t *testing.T) {
	root, err := refdata.HFFixturesDir()
	refdata.Must(t, root, err)
	for _, d := range []string{"gemma3-f32", "gemma3-bf16-sharded", "gemma2-bf16", "llama3-ropescaled-f16", "qwen3-f32", "mixtral-f32", "qwen3moe-f32"} {
		t.Run(d, func(t *testing.T) {
			src, err := Open(filepath.Join(root, d))
			require.NoError(t, err)
			var buf bytes.Buffer
			n, err := WriteGGUF(src, &buf)
			require.NoError(t, err)
			assert.Equal(t, int64(buf.Len()), n)
			back, err := NewGGUFSource(bytes.NewReader(buf.Bytes()), n, nil)
			require.NoError(t, err)
			want := *src.Config()
			if want.RopeFreqs {
				want.RopeScaling = nil
			}
			// GGUF has no key for the HF checkpoint dtype: a GGUF export
			// computes with exact constants, as llama.cpp does.
			want.HFDType = ""
			assert.Equal(t, &want, back.Config())
			requireSameTensors(t, src, back)
		})
	}
}

// Configs llama.cpp cannot express with its defaults still round-trip.
func TestWriteGGUFUnusualConfig(t *testing.T) {
	c := gemma3Tiny()
	c.Layers, c.SlidingWindow, c.Sliding = 3, 8, []bool{true, false, true}
	c.RopeTheta, c.RopeLocalTheta = 1e6, 20000
	c.AttnScale, c.EmbedScale, c.NormEps, c.ContextLength = 0.1, math.Sqrt(32), 1e-6, 128
	c.RopeScaling = &RopeScaling{Type: "linear", Factor: 8}
	c.FinalSoftcap = 15
	ts := tensorsFor(c)
	src := &memSource{cfg: c, tensors: ts}
	var buf bytes.Buffer
	n, err := WriteGGUF(src, &buf)
	require.NoError(t, err)
	back, err := NewGGUFSource(bytes.NewReader(buf.Bytes()), n, nil)
	require.NoError(t, err)
	assert.Equal(t, c, back.Config())
}

// memSource serves zero-filled tensors.
type memSource struct {
	cfg     *Config
	tensors []TensorInfo
}

func (m *memSource) Config() *Config          { return m.cfg }
func (m *memSource) Tensors() []TensorInfo    { return m.tensors }
func (m *memSource) Metadata() map[string]any { return map[string]any{} }
func (m *memSource) Close() error             { return nil }
func (m *memSource) ReadTensor(name string) ([]byte, error) {
	for _, t := range m.tensors {
		if t.Name == name {
			n, err := t.Bytes()
			return make([]byte, n), err
		}
	}
	return nil, os.ErrNotExist
}

func requireSameTensors(t *testing.T, a, b Source) {
	t.Helper()
	require.Equal(t, a.Tensors(), b.Tensors())
	for _, ti := range a.Tensors() {
		x, err := a.ReadTensor(ti.Name)
		require.NoError(t, err)
		y, err := b.ReadTensor(ti.Name)
		require.NoError(t, err)
		require.Equal(t, x, y, ti.Name)
	}
}
