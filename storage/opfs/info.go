//go:build js && wasm

package opfs

import (
	"io/fs"
	"sort"
	"time"

	"github.com/hack-pad/safejs"
)

// OPFS has no permission bits or directory times: every entry is the
// origin's, readable and writable, so modes are reported as 0666 / 0777.
const (
	fileMode = fs.FileMode(0o666)
	dirMode  = fs.ModeDir | 0o777
)

type fileInfo struct {
	name  string
	size  int64
	mod   time.Time
	isDir bool
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) ModTime() time.Time { return i.mod }
func (i fileInfo) IsDir() bool        { return i.isDir }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.isDir {
		return dirMode
	}
	return fileMode
}

func dirInfo(name string) fileInfo { return fileInfo{name: name, isDir: true} }

// fileStat describes the file at key with handle h, from its open node when
// this program has one (uncommitted writes count), else from getFile().
func fileStat(key string, h safejs.Value) (fileInfo, error) {
	name, err := stringProp(h, "name")
	if err != nil {
		return fileInfo{}, err
	}
	if n := lookupNode(key); n != nil {
		size, mod, err := n.stat()
		return fileInfo{name: name, size: size, mod: mod}, err
	}
	snap, err := call(h, "getFile")
	if err != nil {
		return fileInfo{}, err
	}
	size, err := numberProp(snap, "size")
	if err != nil {
		return fileInfo{}, err
	}
	ms, err := numberProp(snap, "lastModified")
	if err != nil {
		return fileInfo{}, err
	}
	return fileInfo{name: name, size: int64(size), mod: time.UnixMilli(int64(ms))}, nil
}

type dirEntry struct {
	fs    *FS
	key   string
	name  string
	h     safejs.Value
	isDir bool
}

func (e dirEntry) Name() string { return e.name }
func (e dirEntry) IsDir() bool  { return e.isDir }
func (e dirEntry) Type() fs.FileMode {
	if e.isDir {
		return fs.ModeDir
	}
	return 0
}

// Info reads the file's size and time when asked (one getFile each).
func (e dirEntry) Info() (fs.FileInfo, error) {
	if e.isDir {
		return dirInfo(e.name), nil
	}
	return fileStat(e.key, e.h)
}

// list reads every entry of the directory handle h (named name in f).
func list(f *FS, name string, h safejs.Value) ([]fs.DirEntry, error) {
	it, err := h.Call("values")
	if err != nil {
		return nil, jsThrow(err)
	}
	var out []fs.DirEntry
	for {
		res, err := call(it, "next")
		if err != nil {
			return nil, err
		}
		done, err := res.Get("done")
		if err != nil {
			return nil, err
		}
		if d, _ := done.Bool(); d {
			break
		}
		eh, err := res.Get("value")
		if err != nil {
			return nil, err
		}
		ename, err := stringProp(eh, "name")
		if err != nil {
			return nil, err
		}
		kind, err := stringProp(eh, "kind")
		if err != nil {
			return nil, err
		}
		key := f.keyOf(ename)
		if name != "." {
			key = f.keyOf(name + "/" + ename)
		}
		out = append(out, dirEntry{fs: f, key: key, name: ename, h: eh, isDir: kind == "directory"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}
