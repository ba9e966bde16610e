package httpfs

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"sync"

	"github.com/hack-pad/hackpadfs"
)

var (
	_ hackpadfs.ReaderAtFile  = (*file)(nil)
	_ hackpadfs.SeekerFile    = (*file)(nil)
	_ hackpadfs.DirReaderFile = (*dir)(nil)
)

// file is an open remote file of known size.
type file struct {
	fs   *FS
	name string
	size int64

	mu     sync.Mutex
	off    int64
	body   io.ReadCloser // streaming GET positioned at bodyAt
	bodyAt int64
	closed bool
}

func (f *file) pathErr(op string, err error) error {
	return &fs.PathError{Op: op, Path: f.name, Err: err}
}

func (f *file) Stat() (fs.FileInfo, error) {
	return fileInfo{name: path.Base(f.name), size: f.size}, nil
}

// Read continues one streaming GET while reads stay sequential.
func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, f.pathErr("read", fs.ErrClosed)
	}
	if f.off >= f.size {
		return 0, io.EOF
	}
	if f.body != nil && f.bodyAt != f.off {
		f.body.Close()
		f.body = nil
	}
	if f.body == nil {
		body, err := f.fs.OpenRange(f.name, f.off)
		if err != nil {
			return 0, f.pathErr("read", err)
		}
		f.body, f.bodyAt = body, f.off
	}
	if rest := f.size - f.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := f.body.Read(p)
	f.off += int64(n)
	f.bodyAt += int64(n)
	if err == io.EOF {
		f.body.Close()
		f.body = nil
		if f.off < f.size {
			return n, f.pathErr("read", io.ErrUnexpectedEOF)
		}
		if n > 0 {
			err = nil
		}
	}
	if err != nil && err != io.EOF {
		return n, f.pathErr("read", err)
	}
	return n, err
}

// ReadAt sends one Range GET for the bytes asked.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return 0, f.pathErr("readat", fs.ErrClosed)
	}
	if off < 0 {
		return 0, f.pathErr("readat", errors.New("negative offset"))
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := p
	if rest := f.size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	resp, err := f.fs.get(f.name, off, int64(len(want)))
	if err != nil {
		return 0, f.pathErr("readat", err)
	}
	body, err := rangeBody(resp, off)
	if err != nil {
		return 0, f.pathErr("readat", err)
	}
	defer body.Close()
	n, err := io.ReadFull(body, want)
	if err != nil {
		return n, f.pathErr("readat", io.ErrUnexpectedEOF)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, f.pathErr("seek", fs.ErrClosed)
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.size
	default:
		return 0, f.pathErr("seek", hackpadfs.ErrInvalid)
	}
	if offset < 0 {
		return 0, f.pathErr("seek", hackpadfs.ErrInvalid)
	}
	f.off = offset
	return offset, nil
}

func (f *file) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.pathErr("close", fs.ErrClosed)
	}
	f.closed = true
	if f.body != nil {
		f.body.Close()
		f.body = nil
	}
	return nil
}

// dir is an open directory of the listing.
type dir struct {
	fs      *FS
	name    string
	mu      sync.Mutex
	entries []fs.DirEntry
	listed  bool
	closed  bool
}

func (d *dir) Stat() (fs.FileInfo, error) {
	return fileInfo{name: path.Base(d.name), dir: true}, nil
}

func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: hackpadfs.ErrIsDir}
}

func (d *dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	if !d.listed {
		entries, err := d.fs.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.entries, d.listed = entries, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n:n]
	d.entries = d.entries[n:]
	return out, nil
}
