package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/mem"
	osfs "github.com/hack-pad/hackpadfs/os"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
)

func fixtures(t testing.TB) string {
	dir, err := refdata.HFFixturesDir()
	return refdata.Must(t, dir, err)
}

func TestHFFixtures(t *testing.T) {
	cases := []struct {
		dir     string
		files   int
		tensors int
		dtype   string
	}{
		{"gemma2-bf16", 1, 46, "BF16"},
		{"gemma3-bf16-sharded", 31, 80, "BF16"},
		{"gemma3-f32", 1, 80, "F32"},
		{"llama3-ropescaled-f16", 1, 29, "F16"},
		{"mixtral-f32", 1, 41, "F32"},
		{"qwen3-f32", 1, 35, "F32"},
		{"qwen3moe-f32", 1, 69, "F32"},
	}
	root := fixtures(t)
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join(root, c.dir)
			f, err := OpenDir(dir)
			require.NoError(t, err)
			assert.Equal(t, dir, f.Dir)
			require.Len(t, f.Tensors, c.tensors)
			files := map[string]int64{}
			for _, x := range f.Tensors {
				assert.Equal(t, c.dtype, x.DType, x.Name)
				bits, _ := DTypeBits(x.DType)
				assert.Equal(t, x.Elements()*bits/8, x.Size, x.Name)
				files[x.File] = max(files[x.File], x.Offset+x.Size)
			}
			assert.Len(t, files, c.files)
			// Tensors are packed to the end of each file.
			for name, end := range files {
				info, err := os.Stat(filepath.Join(dir, name))
				require.NoError(t, err)
				assert.Equal(t, info.Size(), end, name)
			}
			emb, ok := f.Tensor("model.embed_tokens.weight")
			require.True(t, ok)
			assert.Equal(t, []int64{512, 256}, emb.Shape)
			data, err := f.ReadTensor(emb)
			require.NoError(t, err)
			require.Len(t, data, int(emb.Size))
			assertFinite(t, emb.DType, data)
		})
	}
}

// assertFinite checks real weights decode to finite, not all-zero values:
// the offsets point at the data, not at the header.
func assertFinite(t *testing.T, dt string, data []byte) {
	var nonzero int
	for i := 0; i < len(data); {
		var v float64
		switch dt {
		case "F32":
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[i:])))
			i += 4
		case "BF16":
			v = float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(data[i:])) << 16))
			i += 2
		case "F16":
			h := binary.LittleEndian.Uint16(data[i:])
			if h&0x7c00 == 0x7c00 {
				v = math.Inf(1)
			} else if h&0x7fff != 0 {
				v = 1
			}
			i += 2
		}
		require.False(t, math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 100, "value %v at byte %d", v, i)
		if v != 0 {
			nonzero++
		}
	}
	assert.Greater(t, nonzero, len(data)/8)
}

// The sharded BF16 Gemma 3 holds the same tensors as the F32 one.
func TestShardedMatchesSingle(t *testing.T) {
	root := fixtures(t)
	sharded, err := OpenDir(filepath.Join(root, "gemma3-bf16-sharded"))
	require.NoError(t, err)
	single, err := OpenDir(filepath.Join(root, "gemma3-f32"))
	require.NoError(t, err)
	shapes := map[string][]int64{}
	for _, x := range single.Tensors {
		shapes[x.Name] = x.Shape
	}
	for _, x := range sharded.Tensors {
		assert.Equal(t, shapes[x.Name], x.Shape, x.Name)
		assert.True(t, strings.HasPrefix(x.File, "model-000"), x.File)
	}
}

func TestNoSafetensors(t *testing.T) {
	_, err := OpenDir(filepath.Join(fixtures(t), "gemma3-f32-config4x"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has no model.safetensors.index.json, model.safetensors or other *.safetensors file")
}

// hackpadfs's OS FS names files by their path under /.
func TestOpenFolderOSFS(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join(fixtures(t), "llama3-ropescaled-f16"))
	require.NoError(t, err)
	rel := strings.TrimPrefix(filepath.ToSlash(dir), "/")
	f, err := OpenFolder(osfs.NewFS(), rel)
	require.NoError(t, err)
	require.Len(t, f.Tensors, 29)
	assert.Equal(t, rel+"/model.safetensors", f.Tensors[0].File)
	data, err := f.ReadTensor(f.Tensors[len(f.Tensors)-1])
	require.NoError(t, err)
	assert.Len(t, data, int(f.Tensors[len(f.Tensors)-1].Size))
}

func memFS(t *testing.T, files map[string][]byte) hackpadfs.FS {
	fsys, err := mem.NewFS()
	require.NoError(t, err)
	require.NoError(t, hackpadfs.MkdirAll(fsys, "m", 0o755))
	for name, data := range files {
		require.NoError(t, hackpadfs.WriteFullFile(fsys, "m/"+name, data, 0o644))
	}
	return fsys
}

func indexJSON(t *testing.T, total int64, m map[string]string) []byte {
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": m})
	require.NoError(t, err)
	return b
}

func TestMemFolders(t *testing.T) {
	shard1 := makeFile(t, nil, st{"a", "F32", []int64{2}}, st{"b", "F16", []int64{4}})
	shard2 := makeFile(t, nil, st{"c", "BF16", []int64{3}})
	good := map[string]string{"a": "s1.safetensors", "b": "s1.safetensors", "c": "s2.safetensors"}
	withIndex := func(total int64, m map[string]string) map[string][]byte {
		return map[string][]byte{"s1.safetensors": shard1, "s2.safetensors": shard2, IndexName: indexJSON(t, total, m)}
	}
	cases := []struct {
		name  string
		files map[string][]byte
		want  string   // error substring, or "" for success
		names []string // on success
	}{
		{"index", withIndex(22, good), "", []string{"a", "b", "c"}},
		{"single", map[string][]byte{SingleName: shard1, "other.safetensors": shard2}, "", []string{"a", "b"}},
		{"any safetensors", map[string][]byte{"x.safetensors": shard2, "w.safetensors": shard1, "notes.txt": []byte("hi")}, "", []string{"a", "b", "c"}},
		{"empty", map[string][]byte{"config.json": []byte("{}")}, "has no model.safetensors.index.json", nil},
		{"duplicate across files", map[string][]byte{"x.safetensors": shard1, "y.safetensors": shard1}, `tensor "a" is in both m/x.safetensors and m/y.safetensors`, nil},
		{"missing shard", map[string][]byte{"s1.safetensors": shard1, IndexName: indexJSON(t, 22, good)}, "s2.safetensors", nil},
		{"index lists absent tensor", withIndex(22, map[string]string{"a": "s1.safetensors", "b": "s1.safetensors", "c": "s2.safetensors", "d": "s2.safetensors"}), `lists "d" in s2.safetensors, which does not hold it`, nil},
		{"shard holds unlisted tensor", withIndex(22, map[string]string{"a": "s1.safetensors", "c": "s2.safetensors"}), `s1.safetensors holds tensor "b", which model.safetensors.index.json does not list`, nil},
		{"tensor in wrong shard", withIndex(22, map[string]string{"a": "s1.safetensors", "b": "s2.safetensors", "c": "s2.safetensors"}), `s1.safetensors holds tensor "b", which model.safetensors.index.json puts in s2.safetensors`, nil},
		{"path traversal", withIndex(22, map[string]string{"a": "../s1.safetensors"}), `maps "a" to "../s1.safetensors", which is not a file name in the folder`, nil},
		{"total size", withIndex(23, good), "says total_size 23, its shards hold 22 bytes", nil},
		{"empty index", map[string][]byte{IndexName: []byte(`{"weight_map":{}}`)}, "has no weight_map entries", nil},
		{"bad index", map[string][]byte{IndexName: []byte(`{"weight_map":`)}, "model.safetensors.index.json", nil},
		{"bad shard", map[string][]byte{SingleName: shard1[:20]}, "m/model.safetensors: safetensors: header length", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := OpenFolder(memFS(t, c.files), "m")
			if c.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "m", f.Dir)
			var names []string
			for _, x := range f.Tensors {
				names = append(names, x.Name)
				data, err := f.ReadTensor(x)
				require.NoError(t, err)
				require.Len(t, data, int(x.Size))
			}
			assert.Equal(t, c.names, names)
		})
	}
}

// ReadTensor returns each tensor's own bytes (makeFile fills tensor i with
// bytes starting at i*13).
func TestReadTensorBytes(t *testing.T) {
	file := makeFile(t, nil, st{"x", "U8", []int64{3}}, st{"y", "I16", []int64{2}})
	f, err := OpenFolder(memFS(t, map[string][]byte{SingleName: file}), "m")
	require.NoError(t, err)
	x, _ := f.Tensor("x")
	y, _ := f.Tensor("y")
	xb, err := f.ReadTensor(x)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 1, 2}, xb)
	yb, err := f.ReadTensor(y)
	require.NoError(t, err)
	assert.Equal(t, []byte{13, 14, 15, 16}, yb)
	_, ok := f.Tensor("z")
	assert.False(t, ok)
	_, err = f.ReadTensor(Tensor{Name: "gone", File: "m/nope.safetensors", Size: 4})
	assert.ErrorContains(t, err, `tensor "gone"`)
	_, err = f.ReadTensor(Tensor{Name: "long", File: x.File, Offset: x.Offset, Size: 1 << 10})
	assert.ErrorContains(t, err, `tensor "long": reading 1024 bytes`)
}
