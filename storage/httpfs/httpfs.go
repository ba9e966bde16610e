// Package httpfs is a read-only hackpadfs file system over HTTP: Open,
// Stat and ReadDir of files below a base URL, read with GET and Range
// requests. It runs natively (net/http) and in js/wasm, where Go's net/http
// uses the browser's fetch; there it lets a test or the runtime load a
// converted model straight from a server, without copying it into OPFS.
//
// HTTP has no directory listing, so the FS learns names one of two ways:
//   - a listing given to New (WithFiles: path → size), e.g. the files a
//     shard manifest names (NewShardFolder reads manifest.json and builds
//     it). Stat and ReadDir then need no request, and names outside the
//     listing do not exist;
//   - without one, Stat asks the server: HEAD for Content-Length, falling
//     back to a one-byte Range GET (Content-Range: bytes 0-0/SIZE) where
//     HEAD gives no length. ReadDir is then not implemented.
//
// Reads: ReadAt sends one Range GET per call; sequential Read keeps one
// streaming GET open from the current offset and reopens it after a Seek.
// A server that ignores Range (200 instead of 206) still works: the bytes
// before the offset are read and dropped, correct but slow.
package httpfs

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hack-pad/hackpadfs"
)

// FS reads files below a base URL.
type FS struct {
	base   *url.URL
	client *http.Client
	ctx    context.Context

	listed bool
	files  map[string]int64 // from WithFiles
	dirs   map[string][]string

	mu    sync.Mutex
	sizes map[string]int64 // learned by Stat
}

var (
	_ hackpadfs.StatFS    = (*FS)(nil)
	_ hackpadfs.ReadDirFS = (*FS)(nil)
)

// Option configures New.
type Option func(*FS)

// WithClient sets the HTTP client (default http.DefaultClient).
func WithClient(c *http.Client) Option { return func(f *FS) { f.client = c } }

// WithContext bounds every request by ctx.
func WithContext(ctx context.Context) Option { return func(f *FS) { f.ctx = ctx } }

// WithFiles gives the FS its listing: file paths (slash-separated, relative
// to the base URL) and their sizes. Directories are implied by the paths; a
// negative size names an (empty or not) directory explicitly.
func WithFiles(files map[string]int64) Option {
	return func(f *FS) {
		f.listed = true
		f.files = map[string]int64{}
		f.dirs = map[string][]string{".": nil}
		seen := map[string]bool{}
		for p, size := range files {
			if size < 0 {
				if _, ok := f.dirs[p]; !ok {
					f.dirs[p] = nil
				}
			} else {
				f.files[p] = size
			}
			for child := p; child != "."; child = path.Dir(child) {
				parent := path.Dir(child)
				if seen[child] {
					break
				}
				seen[child] = true
				f.dirs[parent] = append(f.dirs[parent], path.Base(child))
				if size, isFile := files[child]; !isFile || size < 0 {
					if _, ok := f.dirs[child]; !ok {
						f.dirs[child] = nil
					}
				}
			}
		}
		for _, names := range f.dirs {
			sort.Strings(names)
		}
	}
}

// New returns the FS of the files below baseURL (a trailing slash is added).
func New(baseURL string, opts ...Option) (*FS, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("httpfs: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("httpfs: %q is not an http(s) URL", baseURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	f := &FS{base: u, client: http.DefaultClient, ctx: context.Background(), sizes: map[string]int64{}}
	for _, o := range opts {
		o(f)
	}
	return f, nil
}

// URL returns the address of name.
func (f *FS) URL(name string) string {
	if name == "." {
		return f.base.String()
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		parts = append(parts, url.PathEscape(p))
	}
	return f.base.ResolveReference(&url.URL{Path: strings.Join(parts, "/")}).String()
}

// Open opens name for reading.
func (f *FS) Open(name string) (hackpadfs.File, error) {
	info, err := f.stat("open", name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return &dir{fs: f, name: name}, nil
	}
	return &file{fs: f, name: name, size: info.Size()}, nil
}

// Stat describes name.
func (f *FS) Stat(name string) (hackpadfs.FileInfo, error) {
	return f.stat("stat", name)
}

func (f *FS) stat(op, name string) (fileInfo, error) {
	if !fs.ValidPath(name) {
		return fileInfo{}, &fs.PathError{Op: op, Path: name, Err: hackpadfs.ErrInvalid}
	}
	if name == "." {
		return fileInfo{name: ".", dir: true}, nil
	}
	if f.listed {
		if size, ok := f.files[name]; ok {
			return fileInfo{name: path.Base(name), size: size}, nil
		}
		if _, ok := f.dirs[name]; ok {
			return fileInfo{name: path.Base(name), dir: true}, nil
		}
		return fileInfo{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	f.mu.Lock()
	size, ok := f.sizes[name]
	f.mu.Unlock()
	if !ok {
		var err error
		if size, err = f.remoteSize(name); err != nil {
			return fileInfo{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
		f.mu.Lock()
		f.sizes[name] = size
		f.mu.Unlock()
	}
	return fileInfo{name: path.Base(name), size: size}, nil
}

// remoteSize asks the server for the size of name.
func (f *FS) remoteSize(name string) (int64, error) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodHead, f.URL(name), nil)
	if err != nil {
		return 0, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if err := statusErr(resp); err != nil {
		return 0, err
	}
	if resp.ContentLength >= 0 {
		return resp.ContentLength, nil
	}
	// No length on HEAD (chunked servers): ask for one byte.
	resp, err = f.get(name, 0, 1)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if total, ok := contentRangeTotal(resp.Header.Get("Content-Range")); ok {
		return total, nil
	}
	if resp.StatusCode == http.StatusOK && resp.ContentLength >= 0 {
		return resp.ContentLength, nil
	}
	return 0, fmt.Errorf("server gives no size for %s", f.URL(name))
}

// StatusError is an HTTP response that was not a success.
type StatusError struct {
	URL    string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// Is maps 404/410 to fs.ErrNotExist and 401/403 to fs.ErrPermission.
func (e *StatusError) Is(target error) bool {
	switch e.Status {
	case http.StatusNotFound, http.StatusGone:
		return target == fs.ErrNotExist
	case http.StatusUnauthorized, http.StatusForbidden:
		return target == fs.ErrPermission
	}
	return false
}

func statusErr(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &StatusError{URL: resp.Request.URL.String(), Status: resp.StatusCode}
}

// get requests bytes [off, off+n) of name (n < 0: to the end). The caller
// checks the status: 206 honours the range, 200 is the whole file.
func (f *FS) get(name string, off, n int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, f.URL(name), nil)
	if err != nil {
		return nil, err
	}
	if off > 0 || n >= 0 {
		r := "bytes=" + strconv.FormatInt(off, 10) + "-"
		if n >= 0 {
			r += strconv.FormatInt(off+n-1, 10)
		}
		req.Header.Set("Range", r)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		resp.Body.Close()
		return nil, io.EOF
	}
	if err := statusErr(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// OpenRange returns the bytes of name from off to its end, skipping the
// first off bytes itself when the server ignores Range.
func (f *FS) OpenRange(name string, off int64) (io.ReadCloser, error) {
	resp, err := f.get(name, off, -1)
	if err != nil {
		return nil, err
	}
	return rangeBody(resp, off)
}

func rangeBody(resp *http.Response, off int64) (io.ReadCloser, error) {
	if resp.StatusCode == http.StatusPartialContent || off == 0 {
		return resp.Body, nil
	}
	if _, err := io.CopyN(io.Discard, resp.Body, off); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp.Body, nil
}

// contentRangeTotal parses the total of "bytes A-B/TOTAL".
func contentRangeTotal(v string) (int64, bool) {
	_, total, ok := strings.Cut(v, "/")
	if !ok || total == "*" {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}

// ReadDir lists name; it needs the listing of WithFiles.
func (f *FS) ReadDir(name string) ([]hackpadfs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: hackpadfs.ErrInvalid}
	}
	if !f.listed {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: hackpadfs.ErrNotImplemented}
	}
	names, ok := f.dirs[name]
	if !ok {
		if _, isFile := f.files[name]; isFile {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: hackpadfs.ErrNotDir}
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]hackpadfs.DirEntry, 0, len(names))
	for _, n := range names {
		p := path.Join(name, n)
		info, err := f.stat("readdir", p)
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(info))
	}
	return out, nil
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
