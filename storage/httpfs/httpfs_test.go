//go:build !js

package httpfs

import (
	"bytes"
	"crypto/rand"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/fstest"
	"github.com/hack-pad/hackpadfs/mem"
	"github.com/stretchr/testify/require"
)

// countRequests counts requests into s.requests.
func countRequests(h http.Handler, s *server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h.ServeHTTP(w, r)
	})
}

// serve publishes fsys over HTTP with net/http's file server (HEAD, Range).
func serve(tb testing.TB, fsys hackpadfs.FS) *httptest.Server {
	srv := httptest.NewServer(http.FileServer(http.FS(fsys)))
	tb.Cleanup(srv.Close)
	return srv
}

func listing(tb testing.TB, fsys hackpadfs.FS) map[string]int64 {
	files := map[string]int64{}
	require.NoError(tb, hackpadfs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		if d.IsDir() {
			files[p] = -1
			return nil
		}
		info, err := d.Info()
		files[p] = info.Size()
		return err
	}))
	return files
}

func TestConformanceReadOnly(t *testing.T) {
	options := fstest.FSOptions{
		Name: "httpfs",
		// A read-only FS: cases are prepared in memory, then served.
		Setup: fstest.TestSetupFunc(func(tb testing.TB) (fstest.SetupFS, func() hackpadfs.FS) {
			setup, err := mem.NewFS()
			require.NoError(tb, err)
			return setup, func() hackpadfs.FS {
				fsys, err := New(serve(tb, setup).URL, WithFiles(listing(tb, setup)))
				require.NoError(tb, err)
				return fsys
			}
		}),
		// These two compare permission bits with the setup FS's 0666
		// without applying Constraints.FileModeMask; HTTP carries no
		// permission bits, and this read-only FS reports 0444.
		ShouldSkip: func(f fstest.Facets) bool {
			return strings.HasSuffix(f.Name, "/fs.ReadDir/exists") || strings.HasSuffix(f.Name, "/file_concurrent.Stat")
		},
	}
	fstest.FS(t, options)
	fstest.File(t, options)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// server serves one file; it can ignore Range, hide sizes from HEAD, and
// counts the requests.
type server struct {
	data        []byte
	ignoreRange bool
	noHeadSize  bool
	requests    atomic.Int64
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.URL.Path != "/dir/model.bin" {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodHead && s.noHeadSize {
		w.Header().Set("Transfer-Encoding", "chunked")
		w.WriteHeader(http.StatusOK)
		return
	}
	if s.ignoreRange {
		w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
		w.Write(s.data)
		return
	}
	http.ServeContent(w, r, "model.bin", fakeTime, bytes.NewReader(s.data))
}

var fakeTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestReads(t *testing.T) {
	data := randomBytes(1<<20 + 17)
	for _, tc := range []struct {
		name        string
		ignoreRange bool
		noHeadSize  bool
	}{
		{"range", false, false},
		{"server ignores range", true, false},
		{"HEAD without length", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &server{data: data, ignoreRange: tc.ignoreRange, noHeadSize: tc.noHeadSize}
			srv := httptest.NewServer(s)
			defer srv.Close()
			fsys, err := New(srv.URL + "/dir")
			require.NoError(t, err)

			info, err := fsys.Stat("model.bin")
			require.NoError(t, err)
			require.Equal(t, int64(len(data)), info.Size())

			f, err := fsys.Open("model.bin")
			require.NoError(t, err)
			defer f.Close()
			buf := make([]byte, 1000)
			n, err := f.(*file).ReadAt(buf, 5000)
			require.NoError(t, err)
			require.Equal(t, data[5000:6000], buf[:n])

			n, err = f.(*file).ReadAt(buf, int64(len(data)-10))
			require.ErrorIs(t, err, io.EOF)
			require.Equal(t, data[len(data)-10:], buf[:n])

			_, err = f.(*file).Seek(123, io.SeekStart)
			require.NoError(t, err)
			rest, err := io.ReadAll(f)
			require.NoError(t, err)
			require.Equal(t, data[123:], rest)

			_, err = fsys.Stat("missing.bin")
			require.ErrorIs(t, err, fs.ErrNotExist)
		})
	}
}

func TestSequentialReadUsesOneRequest(t *testing.T) {
	s := &server{data: randomBytes(3 << 20)}
	srv := httptest.NewServer(s)
	defer srv.Close()
	fsys, err := New(srv.URL+"/dir", WithFiles(map[string]int64{"model.bin": int64(len(s.data))}))
	require.NoError(t, err)
	f, err := fsys.Open("model.bin")
	require.NoError(t, err)
	defer f.Close()
	got, err := io.ReadAll(f)
	require.NoError(t, err)
	require.Equal(t, s.data, got)
	require.Equal(t, int64(1), s.requests.Load(), "a listing needs no HEAD; a stream needs one GET")
}
