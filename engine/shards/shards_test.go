package shards

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fill(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func writeAll(t *testing.T, fsys hackpadfs.FS, dir string, shardSize int64, sizes []int) *Manifest {
	t.Helper()
	w, err := NewWriter(fsys, dir, shardSize)
	require.NoError(t, err)
	for i, n := range sizes {
		data := fill(n, byte(i+1))
		require.NoError(t, w.AddTensor(string(rune('a'+i)), []int64{int64(n)}, "I8", int64(n), func(dst io.Writer) error {
			// Write in two pieces: the writer must count and hash across calls.
			if _, err := dst.Write(data[:n/2]); err != nil {
				return err
			}
			_, err := dst.Write(data[n/2:])
			return err
		}))
	}
	meta, err := w.AddFile(MetadataName, []byte("meta"))
	require.NoError(t, err)
	m, err := w.Finish(Manifest{Architecture: "llama", Config: json.RawMessage(`{}`), Metadata: meta})
	require.NoError(t, err)
	return m
}

func TestWriterPlacement(t *testing.T) {
	fsys, err := mem.NewFS()
	require.NoError(t, err)
	// Shard size 100: 50 would start at 64 (aligned) and end past 100, so it
	// opens shard 1; 250 is bigger than a shard and gets its own; 10 cannot
	// join the full shard 2 and opens shard 3.
	m := writeAll(t, fsys, "out", 100, []int{40, 50, 250, 10})
	require.Len(t, m.Shards, 4)
	assert.Equal(t, []Tensor{
		{Name: "a", Shape: []int64{40}, DType: "I8", Shard: 0, Offset: 0, Size: 40},
		{Name: "b", Shape: []int64{50}, DType: "I8", Shard: 1, Offset: 0, Size: 50},
		{Name: "c", Shape: []int64{250}, DType: "I8", Shard: 2, Offset: 0, Size: 250},
		{Name: "d", Shape: []int64{10}, DType: "I8", Shard: 3, Offset: 0, Size: 10},
	}, m.Tensors)
	assert.Equal(t, FormatVersion, m.Format)
	assert.Equal(t, NormsEffective, m.Norms)

	m2 := writeAll(t, fsys, "out2", 1000, []int{40, 50, 250, 10})
	require.Len(t, m2.Shards, 1)
	assert.Equal(t, []int64{0, 64, 128, 384}, []int64{m2.Tensors[0].Offset, m2.Tensors[1].Offset, m2.Tensors[2].Offset, m2.Tensors[3].Offset})
	assert.Equal(t, int64(394), m2.Shards[0].Bytes)

	r, err := Open(fsys, "out2")
	require.NoError(t, err)
	for i, name := range []string{"a", "b", "c", "d"} {
		b, err := r.ReadTensor(name)
		require.NoError(t, err)
		assert.Equal(t, fill(len(b), byte(i+1)), b)
	}
	require.NoError(t, r.Verify())
	md, err := r.ReadMetadata()
	require.NoError(t, err)
	assert.Equal(t, []byte("meta"), md)
	_, err = r.ReadTensor("zz")
	assert.Error(t, err)
}

func TestCorruptShard(t *testing.T) {
	fsys, err := mem.NewFS()
	require.NoError(t, err)
	writeAll(t, fsys, "m", 100, []int{40, 50})
	require.NoError(t, hackpadfs.WriteFullFile(fsys, "m/"+ShardName(1), fill(50, 9), 0o644))
	r, err := Open(fsys, "m")
	require.NoError(t, err)
	_, err = r.ReadTensor("a")
	require.NoError(t, err)
	_, err = r.ReadTensor("b")
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, ShardName(1), ce.File)
	assert.Contains(t, err.Error(), "download or convert the model again")

	require.NoError(t, hackpadfs.WriteFullFile(fsys, "m/"+MetadataName, []byte("metx"), 0o644))
	_, err = r.ReadMetadata()
	assert.ErrorContains(t, err, MetadataName)
}

func TestManifestChecks(t *testing.T) {
	base := func() Manifest {
		return Manifest{Format: 1, Norms: NormsEffective, Shards: []File{{File: "shard-00000.bin", Bytes: 10}},
			Tensors: []Tensor{{Name: "a", Shard: 0, Offset: 0, Size: 10}}}
	}
	cases := []struct {
		name string
		edit func(m *Manifest)
		want string
	}{
		{"format", func(m *Manifest) { m.Format = 2 }, "format 2"},
		{"norms", func(m *Manifest) { m.Norms = "raw" }, "norms"},
		{"escape", func(m *Manifest) { m.Shards[0].File = "../x" }, "bad shard file name"},
		{"out of range", func(m *Manifest) { m.Tensors[0].Size = 11 }, "outside shard"},
		{"bad shard index", func(m *Manifest) { m.Tensors[0].Shard = 1 }, "names shard 1"},
		{"duplicate", func(m *Manifest) { m.Tensors = append(m.Tensors, m.Tensors[0]) }, "twice"},
	}
	m := base()
	require.NoError(t, m.check())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.edit(&m)
			assert.ErrorContains(t, m.check(), tc.want)
		})
	}
	fsys, err := mem.NewFS()
	require.NoError(t, err)
	require.NoError(t, hackpadfs.MkdirAll(fsys, "bad", 0o755))
	require.NoError(t, hackpadfs.WriteFullFile(fsys, "bad/manifest.json", []byte("{"), 0o644))
	_, err = Open(fsys, "bad")
	assert.ErrorContains(t, err, "re-convert")
}

func TestRewriteRemovesOldManifest(t *testing.T) {
	fsys, err := mem.NewFS()
	require.NoError(t, err)
	writeAll(t, fsys, "m", 100, []int{10})
	w, err := NewWriter(fsys, "m", 100)
	require.NoError(t, err)
	_, err = hackpadfs.Stat(fsys, "m/manifest.json")
	assert.Error(t, err, "an unfinished rewrite must not look complete")
	w.Abort()
	err = w.AddTensor("x", []int64{4}, "I8", 4, func(dst io.Writer) error { _, err := dst.Write([]byte{1, 2, 3}); return err })
	assert.ErrorContains(t, err, "wrote 3 bytes, expected 4")
}
