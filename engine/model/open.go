package model

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/hack-pad/hackpadfs"
	osfs "github.com/hack-pad/hackpadfs/os"
)

// Options tune OpenFSWith.
type Options struct {
	// NoValidate returns the source even when its config disagrees with its
	// tensors (inspect reports the problems itself).
	NoValidate bool
}

// Open opens a model from the native file system: a .gguf file, an HF folder
// (config.json + *.safetensors) or a converted shard folder (manifest.json).
func Open(p string) (Source, error) { return OpenWith(p, Options{}) }

// OpenWith is Open with options.
func OpenWith(p string, o Options) (Source, error) {
	fsys, rel, err := NativeFS(p)
	if err != nil {
		return nil, err
	}
	src, err := OpenFSWith(fsys, rel, o)
	if err != nil {
		// Report the path the user gave, not the FS-relative one.
		return nil, rewritePath(err, rel, p)
	}
	return src, nil
}

// NativeFS returns the OS file system rooted at / and p relative to it, as
// hackpadfs paths want (no leading slash).
func NativeFS(p string) (hackpadfs.FS, string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, "", err
	}
	rel := strings.TrimPrefix(filepath.ToSlash(abs), "/")
	if rel == "" {
		rel = "."
	}
	return osfs.NewFS(), rel, nil
}

func rewritePath(err error, rel, user string) error {
	var inv *InvalidError
	if errors.As(err, &inv) {
		inv.Source = user
		return inv
	}
	msg := err.Error()
	if strings.Contains(msg, rel) {
		return &pathErr{msg: strings.ReplaceAll(msg, rel, user), err: err}
	}
	return err
}

type pathErr struct {
	msg string
	err error
}

func (e *pathErr) Error() string { return e.msg }
func (e *pathErr) Unwrap() error { return e.err }

// OpenFS opens a model stored in any hackpadfs file system (OPFS, HTTP,
// memory, OS). p is a slash-separated path inside fsys.
func OpenFS(fsys hackpadfs.FS, p string) (Source, error) { return OpenFSWith(fsys, p, Options{}) }

// OpenFSWith is OpenFS with options.
func OpenFSWith(fsys hackpadfs.FS, p string, o Options) (Source, error) {
	p = path.Clean(p)
	info, err := hackpadfs.Stat(fsys, p)
	if err != nil {
		return nil, fmt.Errorf("open model %s: %w", p, err)
	}
	if !info.IsDir() {
		switch path.Base(p) {
		case "manifest.json", "config.json":
			return OpenFSWith(fsys, path.Dir(p), o)
		}
		return openGGUFFS(fsys, p, o)
	}
	if exists(fsys, path.Join(p, ManifestName)) {
		return openShardsFS(fsys, p, o)
	}
	if exists(fsys, path.Join(p, "config.json")) {
		return OpenHF(fsys, p, p, o)
	}
	return nil, fmt.Errorf("%s is not a model folder: expected manifest.json (converted shards) or config.json with *.safetensors (Hugging Face)", p)
}

func exists(fsys hackpadfs.FS, p string) bool {
	_, err := hackpadfs.Stat(fsys, p)
	return err == nil
}

// finish validates a freshly opened source unless told not to.
func finish(src Source, name string, o Options) (Source, error) {
	if o.NoValidate || len(src.Tensors()) == 0 { // vocab-only GGUFs have no tensors to check
		return src, nil
	}
	if ps := Validate(src.Config(), src.Tensors()); len(ps) > 0 {
		src.Close()
		return nil, &InvalidError{Source: name, Problems: ps}
	}
	return src, nil
}

// fileReaderAt adapts a hackpadfs file to io.ReaderAt.
type fileReaderAt struct{ f hackpadfs.File }

func (r fileReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := hackpadfs.ReadAtFile(r.f, p, off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// openReaderAt opens a file for random access and returns its size.
func openReaderAt(fsys hackpadfs.FS, p string) (hackpadfs.File, io.ReaderAt, int64, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, nil, 0, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	if info.IsDir() {
		f.Close()
		return nil, nil, 0, &fs.PathError{Op: "open", Path: p, Err: errors.New("is a directory")}
	}
	return f, fileReaderAt{f}, info.Size(), nil
}
