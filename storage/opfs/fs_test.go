//go:build js && wasm

package opfs

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/fstest"
	"github.com/hack-pad/hackpadfs/mem"
	"github.com/stretchr/testify/require"
)

// newTestFS returns an FS rooted in a fresh directory of the origin's OPFS,
// removed when the test ends, so parallel tests never share files.
func newTestFS(tb testing.TB) *FS {
	tb.Helper()
	root, err := New()
	require.NoError(tb, err)
	name := "opfstest-" + rand.Text()
	require.NoError(tb, root.Mkdir(name, 0o755))
	tb.Cleanup(func() { require.NoError(tb, root.RemoveAll(name)) })
	sub, err := root.SubFS(name)
	require.NoError(tb, err)
	return sub
}

// copyTree copies the setup FS's files and directories into dst.
func copyTree(tb testing.TB, src hackpadfs.FS, dst *FS) {
	tb.Helper()
	err := hackpadfs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		if d.IsDir() {
			return dst.Mkdir(p, 0o755)
		}
		data, err := hackpadfs.ReadFile(src, p)
		if err != nil {
			return err
		}
		return hackpadfs.WriteFullFile(dst, p, data, 0o666)
	})
	require.NoError(tb, err)
}

func TestOPFSConformance(t *testing.T) {
	options := fstest.FSOptions{
		Name: "opfs",
		// fstest prepares each case through Chmod/Chtimes-capable setup FS;
		// OPFS has neither, so cases are prepared in memory and copied in.
		Setup: fstest.TestSetupFunc(func(tb testing.TB) (fstest.SetupFS, func() hackpadfs.FS) {
			setup, err := mem.NewFS()
			require.NoError(tb, err)
			return setup, func() hackpadfs.FS {
				dst := newTestFS(tb)
				copyTree(tb, setup, dst)
				return dst
			}
		}),
		ShouldSkip: func(f fstest.Facets) bool {
			// OPFS entries have no permission bits and no settable times:
			// the File System standard defines neither chmod nor utimes.
			return strings.Contains(f.Name, "Chmod") || strings.Contains(f.Name, "Chtimes")
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

func TestReadYourWritesBeforeCommit(t *testing.T) {
	fsys := newTestFS(t)
	w, err := fsys.OpenFile("f", hackpadfs.FlagReadWrite|hackpadfs.FlagCreate, 0o666)
	require.NoError(t, err)
	defer w.Close()
	wf := w.(*file)
	_, err = wf.Write([]byte("hello"))
	require.NoError(t, err)

	// Nothing committed yet: the browser's view of the file is still empty.
	require.Equal(t, int64(0), committedSize(t, wf.n))
	info, err := fsys.Stat("f")
	require.NoError(t, err)
	require.Equal(t, int64(5), info.Size(), "Stat counts uncommitted writes")

	// A second handle reads what the first one wrote.
	r, err := fsys.Open("f")
	require.NoError(t, err)
	defer r.Close()
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, "hello", string(got))

	_, err = wf.WriteAt([]byte("J"), 0)
	require.NoError(t, err)
	buf := make([]byte, 5)
	n, err := r.(*file).ReadAt(buf, 0)
	require.NoError(t, err)
	require.Equal(t, "Jello", string(buf[:n]))

	require.NoError(t, wf.Sync())
	require.Equal(t, int64(5), committedSize(t, wf.n))
}

// committedSize is the size the browser reports, ignoring our open state.
func committedSize(t *testing.T, n *node) int64 {
	snap, err := call(n.handle, "getFile")
	require.NoError(t, err)
	size, err := numberProp(snap, "size")
	require.NoError(t, err)
	return int64(size)
}

func TestWriteAtBeyondEOFZeroFills(t *testing.T) {
	fsys := newTestFS(t)
	f, err := fsys.OpenFile("f", hackpadfs.FlagReadWrite|hackpadfs.FlagCreate, 0o666)
	require.NoError(t, err)
	_, err = f.(*file).WriteAt([]byte("ab"), 0)
	require.NoError(t, err)
	_, err = f.(*file).WriteAt([]byte("xyz"), 10)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	got, err := hackpadfs.ReadFile(fsys, "f")
	require.NoError(t, err)
	require.Equal(t, []byte("ab\x00\x00\x00\x00\x00\x00\x00\x00xyz"), got)
}

func TestTruncateWithPendingWrites(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int64
		want string
	}{
		{"shrink", 3, "012"},
		{"grow", 12, "0123456789\x00\x00"},
		{"empty", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := newTestFS(t)
			f, err := fsys.OpenFile("f", hackpadfs.FlagReadWrite|hackpadfs.FlagCreate, 0o666)
			require.NoError(t, err)
			_, err = f.(*file).Write([]byte("0123456789"))
			require.NoError(t, err)
			require.NoError(t, f.(*file).Truncate(tc.size))
			info, err := f.Stat()
			require.NoError(t, err)
			require.Equal(t, tc.size, info.Size())
			require.NoError(t, f.Close())
			got, err := hackpadfs.ReadFile(fsys, "f")
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}

func TestConcurrentFiles(t *testing.T) {
	fsys := newTestFS(t)
	const files, size = 6, 300 << 10
	want := make([][]byte, files)
	errs := make(chan error, files)
	for i := range files {
		want[i] = randomBytes(size + i)
		go func() {
			f, err := fsys.OpenFile(fmt.Sprintf("f%d", i), hackpadfs.FlagWriteOnly|hackpadfs.FlagCreate, 0o666)
			if err != nil {
				errs <- err
				return
			}
			// Uneven chunks: some gathered, some written straight through.
			for off, step := 0, 1000+i*7919; off < len(want[i]); off += step {
				if _, err := f.(*file).Write(want[i][off:min(off+step, len(want[i]))]); err != nil {
					errs <- err
					return
				}
			}
			errs <- f.Close()
		}()
	}
	for range files {
		require.NoError(t, <-errs)
	}
	for i := range files {
		got, err := hackpadfs.ReadFile(fsys, fmt.Sprintf("f%d", i))
		require.NoError(t, err)
		require.Equal(t, want[i], got, "file %d", i)
	}
}

func TestLargeFile(t *testing.T) {
	fsys := newTestFS(t)
	want := randomBytes(9<<20 + 123)
	f, err := fsys.OpenFile("big", hackpadfs.FlagWriteOnly|hackpadfs.FlagCreate, 0o666)
	require.NoError(t, err)
	// io.Copy's 32 KiB writes plus one write larger than the gather buffer.
	_, err = io.Copy(f.(*file), io.LimitReader(strings.NewReader(string(want)), 3<<20))
	require.NoError(t, err)
	_, err = f.(*file).Write(want[3<<20:])
	require.NoError(t, err)
	require.NoError(t, f.Close())

	r, err := fsys.Open("big")
	require.NoError(t, err)
	defer r.Close()
	got := make([]byte, len(want))
	n, err := r.(*file).ReadAt(got, 0)
	require.NoError(t, err)
	require.Equal(t, len(want), n)
	require.Equal(t, want, got)
	tail := make([]byte, 1000)
	n, err = r.(*file).ReadAt(tail, int64(len(want)-500))
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, want[len(want)-500:], tail[:n])
}

func TestSHA256MatchesGo(t *testing.T) {
	fsys := newTestFS(t)
	data := randomBytes(3<<20 + 5)
	f, err := fsys.OpenFile("f", hackpadfs.FlagWriteOnly|hackpadfs.FlagCreate, 0o666)
	require.NoError(t, err)
	_, err = f.(*file).Write(data)
	require.NoError(t, err)
	// Uncommitted writes are committed first.
	got, err := fsys.SHA256("f")
	require.NoError(t, err)
	want := sha256.Sum256(data)
	require.Equal(t, want[:], got)
	require.NoError(t, f.Close())
	_, err = fsys.SHA256("missing")
	require.ErrorIs(t, err, fs.ErrNotExist)
}
