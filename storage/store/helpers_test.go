//go:build !js

package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/storage"
	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/mem"
	"github.com/stretchr/testify/require"
)

// testShardSize makes the 1.2 MB stories260K model span many shards.
const testShardSize = 64 << 10

var (
	fixtureOnce sync.Once
	fixture     []byte
	refFiles    map[string][]byte
)

// stories returns the real stories260K GGUF and the folder native convert
// (model.Convert, --dtype keep) makes of it: the reference every download
// and import must equal byte for byte.
func stories(t *testing.T) ([]byte, map[string][]byte) {
	t.Helper()
	fixtureOnce.Do(func() {
		p := storiesPath(t)
		var err error
		fixture, err = os.ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, storiesSHA256, sha256Hex(fixture), "%s is not the reference stories260K.gguf", p)
		src, err := model.Open(p)
		require.NoError(t, err)
		defer src.Close()
		memfs, err := mem.NewFS()
		require.NoError(t, err)
		_, err = model.Convert(src, memfs, "ref", model.ConvertOptions{DType: "keep", ShardSize: testShardSize})
		require.NoError(t, err)
		refFiles = folderFiles(t, memfs, "ref")
	})
	require.NotNil(t, fixture)
	return fixture, refFiles
}

// folderFiles reads every file of dir except the store's own records.
func folderFiles(t *testing.T, fsys hackpadfs.FS, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := hackpadfs.ReadDir(fsys, dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() == recordName {
			continue
		}
		data, err := hackpadfs.ReadFile(fsys, path.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = data
	}
	return out
}

func requireSameFolder(t *testing.T, want map[string][]byte, fsys hackpadfs.FS, dir string) {
	t.Helper()
	got := folderFiles(t, fsys, dir)
	require.Equal(t, len(want), len(got), "files: %v", keys(got))
	for name, data := range want {
		require.True(t, bytes.Equal(data, got[name]), "%s differs from native convert", name)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// ggufServer serves one file. cutAfter[i] > 0 makes request i drop the
// connection after that many body bytes; ignoreRange answers every request
// with the whole file.
type ggufServer struct {
	data        []byte
	ignoreRange bool
	cutAfter    []int64
	requests    atomic.Int64
	mu          sync.Mutex
	ranges      []string
}

func (s *ggufServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1) - 1
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	var out io.Writer = w
	if int(n) < len(s.cutAfter) && s.cutAfter[n] > 0 {
		out = &cutWriter{w: w, left: s.cutAfter[n]}
	}
	w.Header().Set("ETag", `"stories-v1"`)
	if s.ignoreRange {
		w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
		w.WriteHeader(http.StatusOK)
		out.Write(s.data)
		return
	}
	http.ServeContent(&writerOverride{ResponseWriter: w, w: out}, r, "model.gguf", time.Time{}, bytes.NewReader(s.data))
}

func (s *ggufServer) seenRanges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

type writerOverride struct {
	http.ResponseWriter
	w io.Writer
}

func (o *writerOverride) Write(p []byte) (int, error) { return o.w.Write(p) }

// cutWriter aborts the connection once its byte budget is spent.
type cutWriter struct {
	w    http.ResponseWriter
	left int64
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		c.w.Write(p[:c.left])
		c.w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	c.left -= int64(len(p))
	return c.w.Write(p)
}

func newServer(t *testing.T, s *ggufServer) string {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL + "/files/stories260K.gguf"
}

func newStore(t *testing.T, fsys hackpadfs.FS, o Options) *Store {
	t.Helper()
	if o.ShardSize == 0 {
		o.ShardSize = testShardSize
	}
	if o.Backoff == 0 {
		o.Backoff = time.Millisecond
	}
	s, err := New(fsys, o)
	require.NoError(t, err)
	return s
}

func memFS(t testing.TB) *mem.FS {
	fsys, err := mem.NewFS()
	require.NoError(t, err)
	return fsys
}

// quotaFS is a mem FS that refuses writes past a byte budget, as OPFS does.
type quotaFS struct {
	*mem.FS
	left atomic.Int64
}

func (q *quotaFS) OpenFile(name string, flag int, perm hackpadfs.FileMode) (hackpadfs.File, error) {
	f, err := q.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &quotaFile{File: f, q: q}, nil
}

type quotaFile struct {
	hackpadfs.File
	q *quotaFS
}

func (f *quotaFile) Write(p []byte) (int, error) {
	if f.q.left.Add(-int64(len(p))) < 0 {
		return 0, &fs.PathError{Op: "write", Path: "?", Err: storage.ErrQuotaExceeded}
	}
	return hackpadfs.WriteFile(f.File, p)
}

func (f *quotaFile) ReadAt(p []byte, off int64) (int, error) {
	return hackpadfs.ReadAtFile(f.File, p, off)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// storiesSHA256 is the reference stories260K.gguf (engine/internal/refdata,
// which packages outside engine/ cannot import, holds the same lookup).
const storiesSHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d"

// storiesPath finds stories260K.gguf: $DOPPLER_TEST_MODELS, then
// ../shared/models beside the repository. Missing data fails the test.
func storiesPath(t *testing.T) string {
	dir := os.Getenv("DOPPLER_TEST_MODELS")
	if dir == "" {
		wd, err := os.Getwd()
		require.NoError(t, err)
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "..", "shared", "models")
				break
			}
		}
	}
	p := filepath.Join(dir, "stories260K.gguf")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("stories260K.gguf not found (%v): set DOPPLER_TEST_MODELS or put ../shared beside the repository", err)
	}
	return p
}
