//go:build js && wasm

package opfs

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"sync"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/safejs"
)

var (
	_ hackpadfs.ReadWriterFile = (*file)(nil)
	_ hackpadfs.ReaderAtFile   = (*file)(nil)
	_ hackpadfs.WriterAtFile   = (*file)(nil)
	_ hackpadfs.SeekerFile     = (*file)(nil)
	_ hackpadfs.SyncerFile     = (*file)(nil)
	_ hackpadfs.TruncaterFile  = (*file)(nil)
	_ hackpadfs.DirReaderFile  = (*dirFile)(nil)
)

// file is one open handle of a regular file: its own offset and flags over
// the node shared by all handles of the path.
type file struct {
	fs   *FS
	name string
	n    *node
	flag int

	mu     sync.Mutex
	off    int64
	closed bool

	// Read-ahead for sequential Read: each OPFS read is a Blob slice and a
	// promise, so io.Copy's 32 KiB reads are served from one larger read.
	ra    []byte
	raOff int64
	raGen uint64
}

// readAheadSize is how much a small sequential Read fetches at once.
const readAheadSize = 4 << 20

func (f *file) pathErr(op string, err error) error {
	return &fs.PathError{Op: op, Path: f.name, Err: err}
}

func (f *file) check(op string, write bool) error {
	if f.closed {
		return f.pathErr(op, fs.ErrClosed)
	}
	acc := f.flag & (hackpadfs.FlagReadOnly | hackpadfs.FlagWriteOnly | hackpadfs.FlagReadWrite)
	if write && acc == hackpadfs.FlagReadOnly || !write && acc == hackpadfs.FlagWriteOnly {
		return f.pathErr(op, hackpadfs.ErrPermission)
	}
	return nil
}

func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if len(p) < readAheadSize {
		return f.readBuffered(p)
	}
	n, err := f.n.readAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	if err != nil && err != io.EOF {
		err = f.pathErr("read", err)
	}
	return n, err
}

// readBuffered serves p from the read-ahead buffer, refilling it when the
// offset left it or the file was written since.
func (f *file) readBuffered(p []byte) (int, error) {
	gen := f.n.generation()
	if f.ra == nil || gen != f.raGen || f.off < f.raOff || f.off >= f.raOff+int64(len(f.ra)) {
		if cap(f.ra) < readAheadSize {
			f.ra = make([]byte, readAheadSize)
		}
		got, g, err := f.n.readAhead(f.ra[:readAheadSize], f.off)
		f.ra, f.raOff, f.raGen = f.ra[:got], f.off, g
		if got == 0 {
			if err == io.EOF {
				return 0, io.EOF
			}
			if err != nil {
				return 0, f.pathErr("read", err)
			}
		}
	}
	n := copy(p, f.ra[f.off-f.raOff:])
	f.off += int64(n)
	return n, nil
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	err := f.check("readat", false)
	f.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, f.pathErr("readat", errors.New("negative offset"))
	}
	n, err := f.n.readAt(p, off)
	if err != nil && err != io.EOF {
		err = f.pathErr("readat", err)
	}
	return n, err
}

func (f *file) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	off := f.off
	if f.flag&hackpadfs.FlagAppend != 0 {
		f.n.mu.Lock()
		off = f.n.size
		f.n.mu.Unlock()
	}
	if err := f.n.writeAt(p, off); err != nil {
		return 0, f.pathErr("write", err)
	}
	f.off = off + int64(len(p))
	return len(p), nil
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("writeat", true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, f.pathErr("writeat", errors.New("negative offset"))
	}
	if f.flag&hackpadfs.FlagAppend != 0 {
		return 0, f.pathErr("writeat", errors.New("invalid use of WriteAt on file opened with O_APPEND"))
	}
	if err := f.n.writeAt(p, off); err != nil {
		return 0, f.pathErr("writeat", err)
	}
	return len(p), nil
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, f.pathErr("seek", fs.ErrClosed)
	}
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.off
	case io.SeekEnd:
		f.n.mu.Lock()
		base = f.n.size
		f.n.mu.Unlock()
	default:
		return 0, f.pathErr("seek", hackpadfs.ErrInvalid)
	}
	if base+offset < 0 {
		return 0, f.pathErr("seek", hackpadfs.ErrInvalid)
	}
	f.off = base + offset
	return f.off, nil
}

func (f *file) Stat() (fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, f.pathErr("stat", fs.ErrClosed)
	}
	size, mod, err := f.n.stat()
	if err != nil {
		return nil, f.pathErr("stat", err)
	}
	return fileInfo{name: path.Base(f.name), size: size, mod: mod}, nil
}

// Sync commits the writes so far (closes the writable stream).
func (f *file) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.pathErr("sync", fs.ErrClosed)
	}
	if err := f.n.sync(); err != nil {
		return f.pathErr("sync", err)
	}
	return nil
}

func (f *file) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return f.pathErr("truncate", hackpadfs.ErrInvalid)
	}
	if err := f.n.truncate(size); err != nil {
		return f.pathErr("truncate", err)
	}
	return nil
}

// Close commits this program's uncommitted writes to the file when it is
// the last open handle of the path (see node), and reports a commit error
// such as a QuotaExceededError.
func (f *file) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.pathErr("close", fs.ErrClosed)
	}
	f.closed = true
	// Commit even when other handles stay open: Close promises durability
	// of this handle's writes.
	err := f.n.sync()
	if rerr := f.n.release(); err == nil {
		err = rerr
	}
	if err != nil {
		return f.pathErr("close", err)
	}
	return nil
}

// dirFile is an open directory.
type dirFile struct {
	fs   *FS
	name string
	h    safejs.Value

	mu      sync.Mutex
	entries []fs.DirEntry // listed on the first ReadDir
	listed  bool
	closed  bool
}

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: hackpadfs.ErrIsDir}
}

func (d *dirFile) Stat() (fs.FileInfo, error) {
	return dirInfo(path.Base(d.name)), nil
}

func (d *dirFile) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

// ReadDir returns the next n entries (all remaining when n <= 0), in name
// order, as fs.ReadDirFile does.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	if !d.listed {
		entries, err := list(d.fs, d.name, d.h)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: err}
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
	if n > len(d.entries) {
		n = len(d.entries)
	}
	out := d.entries[:n:n]
	d.entries = d.entries[n:]
	return out, nil
}

// ReadDir on a regular file fails as it does on Windows' os.File.
func (f *file) ReadDir(int) ([]fs.DirEntry, error) {
	return nil, f.pathErr("readdir", hackpadfs.ErrNotDir)
}
