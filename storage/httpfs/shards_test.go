//go:build !js

package httpfs

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/hack-pad/hackpadfs/mem"
	"github.com/stretchr/testify/require"
)

func TestShardFolderOverHTTP(t *testing.T) {
	// A small shard folder, written by the shard writer into memory.
	memfs, err := mem.NewFS()
	require.NoError(t, err)
	w, err := shards.NewWriter(memfs, ".", 4<<10)
	require.NoError(t, err)
	tensors := map[string][]byte{"a": randomBytes(3000), "b": randomBytes(5000), "c": randomBytes(100)}
	for _, name := range []string{"a", "b", "c"} {
		data := tensors[name]
		require.NoError(t, w.AddTensor(name, []int64{int64(len(data))}, "I8", int64(len(data)), func(dst io.Writer) error {
			_, err := dst.Write(data)
			return err
		}))
	}
	_, err = w.Finish(shards.Manifest{Architecture: "test", Config: []byte("{}")})
	require.NoError(t, err)

	s := &server{}
	srv := httptest.NewServer(countRequests(http.FileServer(http.FS(memfs)), s))
	defer srv.Close()
	fsys, err := NewShardFolder(srv.URL + "/")
	require.NoError(t, err)
	r, err := shards.Open(fsys, ".")
	require.NoError(t, err)
	require.NoError(t, r.Verify())
	for name, want := range tensors {
		got, err := r.ReadTensor(name)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), name)
	}
	_, err = fsys.Stat("not-in-manifest.bin")
	require.Error(t, err)
	entries, err := fsys.ReadDir(".")
	require.NoError(t, err)
	require.Len(t, entries, len(r.Manifest.Shards)+1)
	// A GET for the manifest at NewShardFolder and at shards.Open, one per
	// shard check and per tensor: no HEAD, no directory probing.
	require.Equal(t, int64(2+len(r.Manifest.Shards)+len(tensors)), s.requests.Load())
}
