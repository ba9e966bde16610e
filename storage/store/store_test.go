//go:build !js

package store

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/hack-pad/hackpadfs"
	"github.com/stretchr/testify/require"
)

func requireCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	var e *Error
	require.True(t, errors.As(err, &e), "want *Error with code %s, got %v", code, err)
	require.Equal(t, code, e.Code, e.Message)
	return e
}

func TestDownloadEqualsNativeConvert(t *testing.T) {
	data, ref := stories(t)
	srv := &ggufServer{data: data}
	url := newServer(t, srv)
	fsys := memFS(t)
	s := newStore(t, fsys, Options{})

	var mu sync.Mutex
	var reports []Progress
	m, err := s.Download(context.Background(), DownloadRequest{URL: url}, func(p Progress) {
		mu.Lock()
		reports = append(reports, p)
		mu.Unlock()
	})
	require.NoError(t, err)
	require.Equal(t, "stories260k", m.ID)
	require.True(t, m.Ready)
	require.Equal(t, "llama", m.Architecture)
	requireSameFolder(t, ref, fsys, s.Dir(m.ID))
	require.False(t, exists(fsys, path.Join(s.Dir(m.ID), stateName)), "progress file removed once ready")

	// Progress: every phase, in order, bytes never going back within one.
	var phases []Phase
	last := map[Phase]int64{}
	for _, p := range reports {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
		require.GreaterOrEqual(t, p.Bytes, last[p.Phase])
		last[p.Phase] = p.Bytes
	}
	require.Equal(t, []Phase{PhaseDownloading, PhaseConverting, PhaseVerifying}, phases)
	require.Equal(t, int64(len(data)), last[PhaseDownloading])
	require.Equal(t, int64(len(data)), reports[0].Total)

	// A second download of a ready model is free.
	_, err = s.Download(context.Background(), DownloadRequest{URL: url}, nil)
	require.NoError(t, err)
	require.Equal(t, int64(1), srv.requests.Load())
}

func TestDownloadResumesAfterDroppedConnection(t *testing.T) {
	data, ref := stories(t)
	for _, tc := range []struct {
		name        string
		ignoreRange bool
		cuts        []int64
	}{
		{"range", false, []int64{400 << 10, 300 << 10}},
		{"server ignores range", true, []int64{500 << 10, 800 << 10}},
		{"drop inside the header", false, []int64{100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &ggufServer{data: data, ignoreRange: tc.ignoreRange, cutAfter: tc.cuts}
			url := newServer(t, srv)
			fsys := memFS(t)
			s := newStore(t, fsys, Options{})
			m, err := s.Download(context.Background(), DownloadRequest{URL: url, ID: "m"}, nil)
			require.NoError(t, err)
			require.True(t, m.Ready)
			requireSameFolder(t, ref, fsys, s.Dir("m"))
			ranges := srv.seenRanges()
			require.Len(t, ranges, len(tc.cuts)+1)
			require.Equal(t, "", ranges[0])
			if tc.cuts[0] > 1000 {
				// Resumed from a closed shard, not from scratch.
				require.True(t, strings.HasPrefix(ranges[1], "bytes="), "second request %q", ranges[1])
				require.NotEqual(t, "bytes=0-", ranges[1])
			}
		})
	}
}

func TestDownloadResumesInANewSession(t *testing.T) {
	// The browser closed (or the worker was killed) mid-download: a new
	// Store on the same FS picks up from download.json.
	data, ref := stories(t)
	srv := &ggufServer{data: data}
	url := newServer(t, srv)
	fsys := memFS(t)
	ctx, cancel := context.WithCancel(context.Background())
	s1 := newStore(t, fsys, Options{Now: tickingClock()})
	_, err := s1.Download(ctx, DownloadRequest{URL: url, ID: "m"}, func(p Progress) {
		if p.Phase == PhaseDownloading && p.Bytes > 600<<10 {
			cancel()
		}
	})
	requireCode(t, err, CodeCancelled)

	list, err := s1.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.False(t, list[0].Ready, "a half model is never ready")
	require.Greater(t, list[0].Downloaded, int64(0))

	s2 := newStore(t, fsys, Options{})
	m, err := s2.Resume(context.Background(), "m", nil)
	require.NoError(t, err)
	require.True(t, m.Ready)
	requireSameFolder(t, ref, fsys, s2.Dir("m"))
	ranges := srv.seenRanges()
	require.Len(t, ranges, 2)
	require.Regexp(t, `^bytes=[1-9][0-9]*-$`, ranges[1])
}

func TestProgressRateAndETA(t *testing.T) {
	data, _ := stories(t)
	url := newServer(t, &ggufServer{data: data})
	s := newStore(t, memFS(t), Options{Now: tickingClock()})
	var mid []Progress
	_, err := s.Download(context.Background(), DownloadRequest{URL: url}, func(p Progress) {
		if p.Phase == PhaseDownloading && p.Bytes > 0 && p.Bytes < p.Total {
			mid = append(mid, p)
		}
	})
	require.NoError(t, err)
	require.Greater(t, len(mid), 1)
	require.Zero(t, mid[0].Rate, "no rate before any byte of the phase")
	for _, p := range mid[1:] {
		require.Greater(t, p.Rate, 0.0)
		require.Greater(t, p.ETA, time.Duration(0))
		require.Equal(t, "stories260k", p.ModelID)
		// With a clock that ticks 1 s per reading, rate and ETA are exact
		// functions of the bytes: ETA = (total-bytes)/rate.
		want := time.Duration(float64(p.Total-p.Bytes) / p.Rate * float64(time.Second))
		require.InDelta(t, float64(want), float64(p.ETA), float64(time.Millisecond))
	}
}

func TestResumeNeedsAnUnfinishedDownload(t *testing.T) {
	data, _ := stories(t)
	s := newStore(t, memFS(t), Options{})
	_, err := s.Resume(context.Background(), "nothing", nil)
	requireCode(t, err, CodeNoModel)
	_, err = s.Import(context.Background(), bytes.NewReader(data), int64(len(data)), "f.gguf", nil)
	require.NoError(t, err)
	_, err = s.Resume(context.Background(), "f", nil)
	requireCode(t, err, CodeNoModel)
}

func TestResumeAfterCrashMidRename(t *testing.T) {
	// OPFS renames by removing the target, then moving: a crash between the
	// two leaves only download.json.tmp, which must still resume.
	data, ref := stories(t)
	srv := &ggufServer{data: data}
	url := newServer(t, srv)
	fsys := memFS(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := newStore(t, fsys, Options{Now: tickingClock()})
	_, err := s.Download(ctx, DownloadRequest{URL: url, ID: "m"}, func(p Progress) {
		if p.Phase == PhaseDownloading && p.Bytes > 600<<10 {
			cancel()
		}
	})
	requireCode(t, err, CodeCancelled)
	st := path.Join(s.Dir("m"), stateName)
	require.NoError(t, hackpadfs.Rename(fsys, st, st+".tmp"))

	m, err := s.Resume(context.Background(), "m", nil)
	require.NoError(t, err)
	require.True(t, m.Ready)
	requireSameFolder(t, ref, fsys, s.Dir("m"))
	require.Regexp(t, `^bytes=[1-9][0-9]*-$`, srv.seenRanges()[1])
}

func TestQuotaRefusedBeforeStart(t *testing.T) {
	data, _ := stories(t)
	url := newServer(t, &ggufServer{data: data})
	fsys := memFS(t)
	s := newStore(t, fsys, Options{Estimate: func(context.Context) (int64, int64, error) {
		return 10 << 20, 10<<20 + 500<<10, nil // 500 KiB free for a 1.2 MB model
	}})
	_, err := s.Download(context.Background(), DownloadRequest{URL: url}, nil)
	e := requireCode(t, err, CodeQuota)
	require.Contains(t, e.Message, "free")
	entries, err := hackpadfs.ReadDir(fsys, "models")
	require.NoError(t, err)
	require.Empty(t, entries, "nothing written")

	_, err = s.Import(context.Background(), bytes.NewReader(data), int64(len(data)), "x.gguf", nil)
	requireCode(t, err, CodeQuota)
}

func TestQuotaExceededMidwayIsCleanAndResumable(t *testing.T) {
	data, ref := stories(t)
	url := newServer(t, &ggufServer{data: data})
	q := &quotaFS{FS: memFS(t)}
	q.left.Store(700 << 10)
	s := newStore(t, q, Options{})
	_, err := s.Download(context.Background(), DownloadRequest{URL: url, ID: "m"}, nil)
	requireCode(t, err, CodeQuota)
	list, err := s.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.False(t, list[0].Ready)
	require.False(t, exists(q, path.Join(s.Dir("m"), shards.ManifestName)))

	q.left.Store(1 << 30) // the user freed space
	m, err := s.Download(context.Background(), DownloadRequest{URL: url, ID: "m"}, nil)
	require.NoError(t, err)
	require.True(t, m.Ready)
	requireSameFolder(t, ref, q.FS, s.Dir("m"))
}

func TestCorruptShardDetected(t *testing.T) {
	data, _ := stories(t)
	url := newServer(t, &ggufServer{data: data})
	fsys := memFS(t)
	s := newStore(t, fsys, Options{})
	_, err := s.Download(context.Background(), DownloadRequest{URL: url, ID: "m"}, nil)
	require.NoError(t, err)
	require.NoError(t, s.Verify("m"))

	// Flip one byte of a shard, as a disk error or a killed write would.
	shard := path.Join(s.Dir("m"), shards.ShardName(2))
	b, err := hackpadfs.ReadFile(fsys, shard)
	require.NoError(t, err)
	b[len(b)/2] ^= 0xff
	require.NoError(t, hackpadfs.WriteFullFile(fsys, shard, b, 0o644))

	// At load time, through the runtime's reader.
	r, err := s.Open("m")
	require.NoError(t, err)
	var name string
	for _, tn := range r.Manifest.Tensors {
		if tn.Shard == 2 {
			name = tn.Name
		}
	}
	_, err = r.ReadTensor(name)
	require.Error(t, err)
	e := s.Classify("m", err)
	require.Equal(t, CodeCorruptModel, e.Code)
	require.Equal(t, url, e.Source, "offers a re-download")

	requireCode(t, s.Verify("m"), CodeNoModel) // no longer ready
	list, err := s.List()
	require.NoError(t, err)
	require.True(t, list[0].Corrupt)
	require.False(t, list[0].Ready)

	// Downloading again replaces it.
	m, err := s.Download(context.Background(), DownloadRequest{URL: url, ID: "m"}, nil)
	require.NoError(t, err)
	require.True(t, m.Ready)
	require.NoError(t, s.Verify("m"))
}

func TestImportEqualsNativeConvert(t *testing.T) {
	data, ref := stories(t)
	fsys := memFS(t)
	s := newStore(t, fsys, Options{})
	// An unknown size (a stream) works too.
	for i, size := range []int64{int64(len(data)), -1} {
		m, err := s.Import(context.Background(), bytes.NewReader(data), size, "Stories 260K.gguf", nil)
		require.NoError(t, err)
		require.Equal(t, []string{"stories-260k", "stories-260k-2"}[i], m.ID)
		require.True(t, m.Ready)
		requireSameFolder(t, ref, fsys, s.Dir(m.ID))
		require.False(t, exists(fsys, path.Join(s.Dir(m.ID), headerName)))
	}
}

func TestImportRejectsBadFilesAndLeavesNothing(t *testing.T) {
	data, _ := stories(t)
	for _, tc := range []struct {
		name string
		data []byte
		code string
	}{
		{"not gguf", []byte("hello, this is not a model at all"), CodeInvalidModel},
		{"truncated data", data[:len(data)-1000], CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := memFS(t)
			s := newStore(t, fsys, Options{})
			_, err := s.Import(context.Background(), bytes.NewReader(tc.data), int64(len(tc.data)), "bad.gguf", nil)
			require.Error(t, err)
			requireCode(t, err, tc.code)
			entries, err := hackpadfs.ReadDir(fsys, "models")
			require.NoError(t, err)
			require.Empty(t, entries)
		})
	}
}

func TestListDeleteUsage(t *testing.T) {
	data, _ := stories(t)
	fsys := memFS(t)
	s := newStore(t, fsys, Options{})
	for _, n := range []string{"a.gguf", "b.gguf"} {
		_, err := s.Import(context.Background(), bytes.NewReader(data), int64(len(data)), n, nil)
		require.NoError(t, err)
	}
	list, err := s.List()
	require.NoError(t, err)
	require.Len(t, list, 2)
	var sum int64
	for _, m := range list {
		require.True(t, m.Ready)
		require.Equal(t, "llama", m.Architecture)
		require.NotEmpty(t, m.Quantization)
		require.Greater(t, m.Bytes, int64(len(data))/2)
		sum += m.Bytes
	}
	usage, err := s.Usage()
	require.NoError(t, err)
	require.Equal(t, sum, usage)

	require.NoError(t, s.Delete("a"))
	requireCode(t, s.Delete("a"), CodeNoModel)
	requireCode(t, s.Delete("../x"), CodeNoModel)
	list, err = s.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "b", list[0].ID)
	usage, err = s.Usage()
	require.NoError(t, err)
	require.Equal(t, list[0].Bytes, usage)
}

func TestFileHashChecked(t *testing.T) {
	data, _ := stories(t)
	url := newServer(t, &ggufServer{data: data, cutAfter: []int64{500 << 10}})
	s := newStore(t, memFS(t), Options{Retries: 1})
	good := sha256Hex(data)
	m, err := s.Download(context.Background(), DownloadRequest{URL: url, ID: "ok", SHA256: good}, nil)
	require.NoError(t, err, "the hash survives a resume")
	require.True(t, m.Ready)

	_, err = s.Download(context.Background(), DownloadRequest{URL: url, ID: "bad", SHA256: strings.Repeat("0", 64)}, nil)
	e := requireCode(t, err, CodeNetwork)
	require.Contains(t, e.Message, "SHA-256")
}

func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Catalog {
		require.True(t, validID(e.ID), e.ID)
		require.False(t, seen[e.ID])
		seen[e.ID] = true
		require.True(t, strings.HasPrefix(e.URL, "https://huggingface.co/"), e.URL)
		require.True(t, strings.HasSuffix(e.URL, ".gguf"))
		require.Greater(t, e.Bytes, int64(100<<20))
		require.NotEmpty(t, e.License)
	}
	for _, want := range []string{"gemma3", "gemma2", "qwen3", "llama"} {
		found := false
		for _, e := range Catalog {
			found = found || e.Architecture == want
		}
		require.True(t, found, want)
	}
	_, err := newStore(t, memFS(t), Options{}).Download(context.Background(), DownloadRequest{CatalogID: "nope"}, nil)
	requireCode(t, err, CodeNoModel)
}

// tickingClock advances a second per call, so every progress report passes
// the meter's rate limit.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// stallServer sends the first part of the file, then waits for the client
// to go away.
type stallServer struct {
	data    []byte
	started chan struct{}
}

func (s *stallServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
	w.Write(s.data[:len(s.data)/2])
	w.(http.Flusher).Flush()
	close(s.started)
	<-r.Context().Done()
}

func TestDeleteStopsARunningDownload(t *testing.T) {
	data, _ := stories(t)
	srv := &stallServer{data: data, started: make(chan struct{})}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	fsys := memFS(t)
	s := newStore(t, fsys, Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := s.Download(context.Background(), DownloadRequest{URL: ts.URL + "/m.gguf", ID: "m"}, nil)
		errc <- err
	}()
	<-srv.started
	require.Eventually(t, func() bool { return exists(fsys, s.Dir("m")) }, 5*time.Second, time.Millisecond)
	require.NoError(t, s.Delete("m"))
	requireCode(t, <-errc, CodeCancelled)
	require.False(t, exists(fsys, s.Dir("m")))
	list, err := s.List()
	require.NoError(t, err)
	require.Empty(t, list)
}
