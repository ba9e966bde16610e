//go:build js && wasm

package opfs

import (
	"errors"
	"io/fs"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/safejs"
)

// SHA256 returns the SHA-256 of the file name's committed content (this
// program's pending writes are committed first), computed by the browser's
// crypto.subtle, several times faster than Go's in wasm. WebCrypto has no
// streaming digest, so the file is read whole into one JS ArrayBuffer: use
// it for files of tens of MiB (model shards), not gigabytes.
func (f *FS) SHA256(name string) ([]byte, error) {
	parts, err := split("sha256", name)
	if err != nil {
		return nil, err
	}
	fail := func(err error) ([]byte, error) { return nil, &fs.PathError{Op: "sha256", Path: name, Err: err} }
	h, _, isDir, err := f.entry(parts)
	if err != nil {
		return fail(err)
	}
	if isDir {
		return fail(hackpadfs.ErrIsDir)
	}
	commitOpen(f.keyOf(name), false)
	file, err := call(h, "getFile")
	if err != nil {
		return fail(err)
	}
	buf, err := call(file, "arrayBuffer")
	if err != nil {
		return fail(err)
	}
	crypto, err := safejs.Global().Get("crypto")
	if err != nil {
		return fail(err)
	}
	subtle, err := crypto.Get("subtle")
	if err != nil || subtle.IsUndefined() {
		return fail(errors.New("crypto.subtle is missing (not a secure context?)"))
	}
	digest, err := call(subtle, "digest", "SHA-256", buf)
	if err != nil {
		return fail(err)
	}
	ctor, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return fail(err)
	}
	u8, err := ctor.New(digest)
	if err != nil {
		return fail(err)
	}
	out := make([]byte, 32)
	if _, err := safejs.CopyBytesToGo(out, u8); err != nil {
		return fail(err)
	}
	return out, nil
}
