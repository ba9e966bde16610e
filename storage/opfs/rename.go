//go:build js && wasm

package opfs

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/safejs"
)

// Rename moves oldname to newname, replacing a file there. It uses the
// handle's move() where the browser has it (Chromium does, for files) and
// falls back to copy-then-delete (the copy streams Blob → writable inside
// the browser; no bytes pass through Go). A fallback rename is not atomic,
// and a directory holding open files of this program must not be renamed.
func (f *FS) Rename(oldname, newname string) error {
	fail := func(err error) error {
		return &hackpadfs.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	oparts, err := split("rename", oldname)
	if err != nil {
		return fail(hackpadfs.ErrInvalid)
	}
	nparts, err := split("rename", newname)
	if err != nil {
		return fail(hackpadfs.ErrInvalid)
	}
	if len(oparts) == 0 || len(nparts) == 0 {
		return fail(hackpadfs.ErrInvalid)
	}
	oh, oparent, oIsDir, err := f.entry(oparts)
	if err != nil {
		return fail(err)
	}
	if oldname == newname {
		if oIsDir {
			return fail(hackpadfs.ErrExist)
		}
		return nil
	}
	if oIsDir && strings.HasPrefix(newname, oldname+"/") {
		return fail(hackpadfs.ErrInvalid)
	}
	nparent, err := f.dir(nparts[:len(nparts)-1])
	if err != nil {
		return fail(err)
	}
	nlast := nparts[len(nparts)-1]
	_, nIsDir, err := child(nparent, nlast)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	if exists && nIsDir {
		return fail(hackpadfs.ErrExist)
	}
	if exists && oIsDir {
		return fail(hackpadfs.ErrNotDir)
	}

	okey, nkey := f.keyOf(oldname), f.keyOf(newname)
	commitOpen(okey, oIsDir)
	if exists {
		commitOpen(nkey, false)
		if _, err := call(nparent, "removeEntry", nlast); err != nil {
			return fail(err)
		}
	}
	if moved, err := move(oh, nparent, nlast); moved {
		if err != nil {
			return fail(err)
		}
		rekey(okey, nkey)
		return nil
	}
	if oIsDir {
		err = copyDir(oh, nparent, nlast)
	} else {
		err = copyFile(oh, nparent, nlast)
	}
	if err != nil {
		return fail(err)
	}
	opt, err := object("recursive", true)
	if err != nil {
		return fail(err)
	}
	if _, err := call(oparent, "removeEntry", oparts[len(oparts)-1], opt); err != nil {
		return fail(err)
	}
	rekey(okey, nkey)
	return nil
}

// move tries handle.move(dir, name); moved is false where the browser lacks
// it for this kind of handle, so the caller copies instead.
func move(h, dir safejs.Value, name string) (moved bool, err error) {
	m, err := h.Get("move")
	if err != nil || m.Type() != safejs.TypeFunction {
		return false, nil
	}
	_, err = call(h, "move", dir, name)
	if isDOM(err, "NotSupportedError") || isDOM(err, "TypeError") {
		return false, nil
	}
	return true, err
}

func copyFile(src, dstDir safejs.Value, name string) error {
	blob, err := call(src, "getFile")
	if err != nil {
		return err
	}
	dst, err := call(dstDir, "getFileHandle", name, createOpt(true))
	if err != nil {
		return err
	}
	w, err := call(dst, "createWritable")
	if err != nil {
		return err
	}
	if _, err := call(w, "write", blob); err != nil {
		call(w, "abort")
		return err
	}
	_, err = call(w, "close")
	return err
}

func copyDir(src, dstDir safejs.Value, name string) error {
	dst, err := call(dstDir, "getDirectoryHandle", name, createOpt(true))
	if err != nil {
		return err
	}
	entries, err := list(&FS{root: src}, ".", src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		e := e.(dirEntry)
		if e.isDir {
			err = copyDir(e.h, dst, e.name)
		} else {
			err = copyFile(e.h, dst, e.name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rekey moves the open-file record of a renamed file to its new name.
func rekey(oldKey, newKey string) {
	nodes.Lock()
	defer nodes.Unlock()
	if n, ok := nodes.m[oldKey]; ok {
		delete(nodes.m, oldKey)
		n.key = newKey
		nodes.m[newKey] = n
	}
}
