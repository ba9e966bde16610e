//go:build js && wasm

package opfs

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/safejs"
)

// FS is a directory of the origin private file system. Its methods may be
// called from any goroutine except the JS event loop's (inside a js.FuncOf
// callback): each one awaits OPFS promises.
type FS struct {
	root safejs.Value // FileSystemDirectoryHandle
	key  string       // root's path below the OPFS root ("" at the top), names open files
}

var (
	_ hackpadfs.OpenFileFS  = (*FS)(nil)
	_ hackpadfs.MkdirFS     = (*FS)(nil)
	_ hackpadfs.MkdirAllFS  = (*FS)(nil)
	_ hackpadfs.RemoveFS    = (*FS)(nil)
	_ hackpadfs.RemoveAllFS = (*FS)(nil)
	_ hackpadfs.RenameFS    = (*FS)(nil)
	_ hackpadfs.StatFS      = (*FS)(nil)
	_ hackpadfs.ReadDirFS   = (*FS)(nil)
	_ hackpadfs.SubFS       = (*FS)(nil)
)

// createMu serializes check-then-create steps (O_EXCL, Mkdir) of this
// program, which OPFS offers no atomic form of.
var createMu sync.Mutex

// removeMu serializes this program's removals: a removeEntry in flight
// holds an exclusive lock, and a concurrent one on the same entry fails
// with NoModificationAllowedError instead of NotFoundError.
var removeMu sync.Mutex

// New returns the FS at the root of the origin's private file system
// (navigator.storage.getDirectory()).
func New() (*FS, error) {
	nav, err := safejs.Global().Get("navigator")
	if err != nil {
		return nil, err
	}
	st, err := nav.Get("storage")
	if err != nil {
		return nil, err
	}
	if st.IsUndefined() {
		return nil, errors.New("opfs: navigator.storage is missing (not a secure context?)")
	}
	root, err := call(st, "getDirectory")
	if err != nil {
		return nil, err
	}
	return &FS{root: root}, nil
}

// Sub returns the FS rooted at the directory dir, which must exist.
func (f *FS) Sub(dir string) (hackpadfs.FS, error) {
	return f.SubFS(dir)
}

// SubFS is Sub with the concrete type.
func (f *FS) SubFS(dir string) (*FS, error) {
	parts, err := split("sub", dir)
	if err != nil {
		return nil, err
	}
	h, err := f.dir(parts)
	if err != nil {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: err}
	}
	return &FS{root: h, key: f.keyOf(dir)}, nil
}

func (f *FS) keyOf(name string) string {
	if name == "." {
		return f.key
	}
	return f.key + "/" + name
}

// split checks name (io/fs rules) and returns its elements; "." has none.
func split(op, name string) ([]string, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: hackpadfs.ErrInvalid}
	}
	if name == "." {
		return nil, nil
	}
	return strings.Split(name, "/"), nil
}

// dir walks down the directory elements of parts.
func (f *FS) dir(parts []string) (safejs.Value, error) {
	h := f.root
	for _, p := range parts {
		next, err := call(h, "getDirectoryHandle", p)
		if err != nil {
			if isDOM(err, "TypeMismatchError") {
				return safejs.Value{}, hackpadfs.ErrNotDir
			}
			return safejs.Value{}, err
		}
		h = next
	}
	return h, nil
}

// entry finds the handle of parts (a file or a directory) and its parent.
func (f *FS) entry(parts []string) (h, parent safejs.Value, isDir bool, err error) {
	if len(parts) == 0 {
		return f.root, safejs.Value{}, true, nil
	}
	parent, err = f.dir(parts[:len(parts)-1])
	if err != nil {
		return
	}
	h, isDir, err = child(parent, parts[len(parts)-1])
	return
}

// child looks up name in dir as a file, then as a directory.
func child(dir safejs.Value, name string) (safejs.Value, bool, error) {
	h, err := call(dir, "getFileHandle", name)
	if err == nil {
		return h, false, nil
	}
	if !isDOM(err, "TypeMismatchError") {
		return safejs.Value{}, false, err
	}
	h, err = call(dir, "getDirectoryHandle", name)
	return h, true, err
}

func createOpt(create bool) safejs.Value {
	o, _ := object("create", create)
	return o
}

// Open opens name for reading.
func (f *FS) Open(name string) (hackpadfs.File, error) {
	return f.OpenFile(name, hackpadfs.FlagReadOnly, 0)
}

// OpenFile opens name with os.OpenFile's flags. perm is ignored: OPFS has
// no permission bits (every entry belongs to the origin, read-write).
func (f *FS) OpenFile(name string, flag int, _ hackpadfs.FileMode) (hackpadfs.File, error) {
	parts, err := split("open", name)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (hackpadfs.File, error) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	writing := flag&(hackpadfs.FlagWriteOnly|hackpadfs.FlagReadWrite) != 0
	create := flag&hackpadfs.FlagCreate != 0
	if len(parts) == 0 {
		if writing || create && flag&hackpadfs.FlagExclusive != 0 {
			return fail(hackpadfs.ErrIsDir)
		}
		return &dirFile{fs: f, name: name, h: f.root}, nil
	}
	parent, err := f.dir(parts[:len(parts)-1])
	if err != nil {
		return fail(err)
	}
	last := parts[len(parts)-1]

	if create && flag&hackpadfs.FlagExclusive != 0 {
		createMu.Lock()
		defer createMu.Unlock()
		if _, _, err := child(parent, last); err == nil {
			return fail(hackpadfs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fail(err)
		}
	}
	h, err := call(parent, "getFileHandle", last, createOpt(create))
	if isDOM(err, "TypeMismatchError") {
		if writing || create && flag&hackpadfs.FlagExclusive != 0 {
			return fail(hackpadfs.ErrIsDir)
		}
		dh, err := call(parent, "getDirectoryHandle", last)
		if err != nil {
			return fail(err)
		}
		return &dirFile{fs: f, name: name, h: dh}, nil
	}
	if err != nil {
		return fail(err)
	}
	n, err := acquire(f.keyOf(name), h)
	if err != nil {
		return fail(err)
	}
	fl := &file{fs: f, name: name, n: n, flag: flag}
	if writing && flag&hackpadfs.FlagTruncate != 0 {
		if err := n.truncate(0); err != nil {
			n.release()
			return fail(err)
		}
	}
	return fl, nil
}

// Mkdir creates the directory name; its parent must exist.
func (f *FS) Mkdir(name string, _ hackpadfs.FileMode) error {
	parts, err := split("mkdir", name)
	if err != nil {
		return err
	}
	fail := func(err error) error { return &fs.PathError{Op: "mkdir", Path: name, Err: err} }
	if len(parts) == 0 {
		return fail(hackpadfs.ErrExist)
	}
	parent, err := f.dir(parts[:len(parts)-1])
	if err != nil {
		return fail(err)
	}
	createMu.Lock()
	defer createMu.Unlock()
	if _, _, err := child(parent, parts[len(parts)-1]); err == nil {
		return fail(hackpadfs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	if _, err := call(parent, "getDirectoryHandle", parts[len(parts)-1], createOpt(true)); err != nil {
		return fail(err)
	}
	return nil
}

// MkdirAll creates name and any missing parents.
func (f *FS) MkdirAll(name string, _ hackpadfs.FileMode) error {
	parts, err := split("mkdir", name)
	if err != nil {
		return err
	}
	h := f.root
	for i, p := range parts {
		next, err := call(h, "getDirectoryHandle", p, createOpt(true))
		if err != nil {
			if isDOM(err, "TypeMismatchError") {
				err = hackpadfs.ErrNotDir
			}
			return &fs.PathError{Op: "mkdir", Path: path.Join(parts[:i+1]...), Err: err}
		}
		h = next
	}
	return nil
}

// Remove removes a file or an empty directory.
func (f *FS) Remove(name string) error {
	return f.remove("remove", name, false)
}

// RemoveAll removes name and everything below it; a missing name is no error.
func (f *FS) RemoveAll(name string) error {
	err := f.remove("removeall", name, true)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (f *FS) remove(op, name string, recursive bool) error {
	parts, err := split(op, name)
	if err != nil {
		return err
	}
	fail := func(err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }
	if len(parts) == 0 {
		return fail(hackpadfs.ErrInvalid) // OPFS cannot remove a root
	}
	parent, err := f.dir(parts[:len(parts)-1])
	if err != nil {
		return fail(err)
	}
	// An uncommitted writable holds a lock that removeEntry would trip on.
	commitOpen(f.keyOf(name), recursive)
	opt, err := object("recursive", recursive)
	if err != nil {
		return fail(err)
	}
	removeMu.Lock()
	defer removeMu.Unlock()
	if _, err := call(parent, "removeEntry", parts[len(parts)-1], opt); err != nil {
		return fail(err)
	}
	return nil
}

// Stat describes name. A file's size includes writes not yet committed.
func (f *FS) Stat(name string) (hackpadfs.FileInfo, error) {
	parts, err := split("stat", name)
	if err != nil {
		return nil, err
	}
	h, _, isDir, err := f.entry(parts)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if isDir {
		return dirInfo(path.Base(name)), nil
	}
	info, err := fileStat(f.keyOf(name), h)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return info, nil
}

// ReadDir lists the directory name, sorted by name.
func (f *FS) ReadDir(name string) ([]hackpadfs.DirEntry, error) {
	parts, err := split("readdir", name)
	if err != nil {
		return nil, err
	}
	h, err := f.dir(parts)
	if err != nil {
		op := "open" // as os.ReadDir: a missing directory fails to open,
		if errors.Is(err, hackpadfs.ErrNotDir) {
			op = "readdir" // a file opens but cannot be listed
		}
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	entries, err := list(f, name, h)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return entries, nil
}
