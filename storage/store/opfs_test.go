//go:build js && wasm

package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/storage/httpfs"
	"github.com/doppler-engine/doppler/storage/opfs"
	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/mem"
	"github.com/stretchr/testify/require"
)

// These tests run in Chromium through build/browsertest: the store on the
// real OPFS, models fetched from the runner's /files/ (the test models).

func opfsRoot(t testing.TB) hackpadfs.FS {
	t.Helper()
	root, err := opfs.New()
	require.NoError(t, err)
	name := "storetest-" + rand.Text()
	require.NoError(t, root.Mkdir(name, 0o755))
	t.Cleanup(func() { root.RemoveAll(name) })
	sub, err := root.SubFS(name)
	require.NoError(t, err)
	return sub
}

func filesURL(t testing.TB) string {
	u := os.Getenv("BROWSERTEST_FILES_URL")
	if u == "" {
		t.Fatal("BROWSERTEST_FILES_URL unset: run under build/browsertest with the test models (../shared/models)")
	}
	return u
}

// nativeReference converts stories260K the way `doppler convert --dtype
// keep` does, reading it over HTTP (httpfs) into memory.
func nativeReference(t *testing.T) map[string][]byte {
	remote, err := httpfs.New(filesURL(t))
	require.NoError(t, err)
	src, err := model.OpenFS(remote, "stories260K.gguf")
	require.NoError(t, err)
	defer src.Close()
	memfs, err := mem.NewFS()
	require.NoError(t, err)
	_, err = model.Convert(src, memfs, "ref", model.ConvertOptions{DType: "keep", ShardSize: 64 << 10})
	require.NoError(t, err)
	return readFolder(t, memfs, "ref")
}

func readFolder(t *testing.T, fsys hackpadfs.FS, dir string) map[string][]byte {
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

func TestOPFSDownloadResumeEqualsNativeConvert(t *testing.T) {
	ref := nativeReference(t)
	fsys := opfsRoot(t)
	url := filesURL(t) + "stories260K.gguf"

	// First session: stopped mid-way, as when the worker is killed.
	ctx, cancel := context.WithCancel(context.Background())
	var clock sync.Mutex
	now := time.Unix(0, 0)
	tick := func() time.Time { clock.Lock(); defer clock.Unlock(); now = now.Add(time.Second); return now }
	s1, err := New(fsys, Options{ShardSize: 64 << 10, Estimate: opfs.Estimate, Now: tick})
	require.NoError(t, err)
	_, err = s1.Download(ctx, DownloadRequest{URL: url, ID: "m"}, func(p Progress) {
		if p.Phase == PhaseDownloading && p.Bytes > 500<<10 {
			cancel()
		}
	})
	require.ErrorContains(t, err, "stopped")
	list, err := s1.List()
	require.NoError(t, err)
	require.False(t, list[0].Ready)
	require.Greater(t, list[0].Downloaded, int64(0))

	// Second session resumes with a Range request and ends identical.
	s2, err := New(fsys, Options{ShardSize: 64 << 10, Estimate: opfs.Estimate})
	require.NoError(t, err)
	m, err := s2.Download(context.Background(), DownloadRequest{URL: url, ID: "m"}, nil)
	require.NoError(t, err)
	require.True(t, m.Ready)
	got := readFolder(t, fsys, s2.Dir("m"))
	require.Equal(t, len(ref), len(got))
	for name, data := range ref {
		require.True(t, bytes.Equal(data, got[name]), "%s differs from native convert", name)
	}
	require.NoError(t, s2.Verify("m"))
}

// setQuota asks the runner to override this origin's quota (-1 resets).
func setQuota(t *testing.T, n int64) {
	resp, err := http.Post(fmt.Sprintf("%s/quota?bytes=%d", os.Getenv("BROWSERTEST_ORIGIN_URL"), n), "text/plain", nil)
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(msg))
}

func TestOPFSQuotaErrors(t *testing.T) {
	fsys := opfsRoot(t)
	s, err := New(fsys, Options{ShardSize: 64 << 10, Estimate: opfs.Estimate, Retries: 1, Backoff: time.Millisecond})
	require.NoError(t, err)
	usage, _, err := opfs.Estimate(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { setQuota(t, -1) })
	url := filesURL(t) + "stories260K.gguf"

	// Refused up front: the estimate leaves 200 KB for a 1.2 MB model.
	// Chromium 156's estimate() still reports the real quota under a CDP
	// quota override, so the up-front check gets the overridden figure from
	// a wrapper, while the writes below meet the real override.
	setQuota(t, usage+200<<10)
	s.o.Estimate = func(ctx context.Context) (int64, int64, error) {
		u, _, err := opfs.Estimate(ctx)
		return u, usage + 200<<10, err
	}
	_, err = s.Download(context.Background(), DownloadRequest{URL: url, ID: "up-front"}, nil)
	requireStoreCode(t, err, CodeQuota)
	require.False(t, exists(fsys, s.Dir("up-front")), "nothing written")

	// Refused mid-way by OPFS itself: a real QuotaExceededError.
	s.o.Estimate = nil
	_, err = s.Download(context.Background(), DownloadRequest{URL: url, ID: "midway"}, nil)
	requireStoreCode(t, err, CodeQuota)
	list, err := s.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.False(t, list[0].Ready, "never a half model listed as ready")

	setQuota(t, -1)
	m, err := s.Download(context.Background(), DownloadRequest{URL: url, ID: "midway"}, nil)
	require.NoError(t, err)
	require.True(t, m.Ready)
}

func requireStoreCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := err.(*Error)
	require.True(t, ok, "want *Error, got %v", err)
	require.Equal(t, code, e.Code, e.Message)
}

// BenchmarkImportOPFS imports a ~59 MB synthetic GGUF into OPFS.
func BenchmarkImportOPFS(b *testing.B) {
	importBench(b, opfsRoot(b))
}
