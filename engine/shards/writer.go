package shards

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/hack-pad/hackpadfs"
)

// Writer streams tensors into shard files, hashing as it writes. It needs
// only Mkdir, OpenFile, Write, Close and Rename from the file system.
type Writer struct {
	fsys      hackpadfs.FS
	dir       string
	shardSize int64

	m      Manifest
	cur    hackpadfs.File
	hash   hash.Hash
	curLen int64
	total  int64
}

// NewWriter starts a shard folder at dir (created if missing). A manifest
// left from an earlier conversion is removed first, so an interrupted
// rewrite never looks complete.
func NewWriter(fsys hackpadfs.FS, dir string, shardSize int64) (*Writer, error) {
	if shardSize <= 0 {
		shardSize = DefaultShardSize
	}
	if err := hackpadfs.MkdirAll(fsys, dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := hackpadfs.Remove(fsys, path.Join(dir, ManifestName)); err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("remove old manifest: %w", err)
	}
	return &Writer{fsys: fsys, dir: dir, shardSize: shardSize}, nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// AddTensor appends one tensor of size bytes; write must write exactly size bytes.
func (w *Writer) AddTensor(name string, shape []int64, dtype string, size int64, write func(io.Writer) error) error {
	pad := (Align - w.curLen%Align) % Align
	if w.cur == nil || (w.curLen > 0 && w.curLen+pad+size > w.shardSize) {
		if err := w.closeShard(); err != nil {
			return err
		}
		if err := w.openShard(); err != nil {
			return err
		}
		pad = 0
	}
	if pad > 0 {
		if err := w.write(make([]byte, pad)); err != nil {
			return err
		}
	}
	t := Tensor{Name: name, Shape: append([]int64(nil), shape...), DType: dtype, Shard: len(w.m.Shards) - 1, Offset: w.curLen, Size: size}
	cw := &countWriter{w: w}
	if err := write(cw); err != nil {
		return fmt.Errorf("write tensor %s: %w", name, err)
	}
	if cw.n != size {
		return fmt.Errorf("tensor %s: wrote %d bytes, expected %d", name, cw.n, size)
	}
	w.m.Tensors = append(w.m.Tensors, t)
	return nil
}

// AddFile writes a whole extra file (e.g. metadata.gguf) and returns its entry.
func (w *Writer) AddFile(name string, data []byte) (*File, error) {
	if !validName(name) {
		return nil, fmt.Errorf("bad file name %q", name)
	}
	f, err := hackpadfs.OpenFile(w.fsys, path.Join(w.dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := hackpadfs.WriteFile(f, data); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &File{File: name, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// Finish closes the last shard and writes manifest.json (via a temporary
// file and a rename), filling in the tensors and shards; m's other fields
// are the caller's.
func (w *Writer) Finish(m Manifest) (*Manifest, error) {
	if err := w.closeShard(); err != nil {
		return nil, err
	}
	m.Format = FormatVersion
	m.Norms = NormsEffective
	m.Tensors, m.Shards = w.m.Tensors, w.m.Shards
	if m.Tensors == nil {
		m.Tensors = []Tensor{}
	}
	if m.Shards == nil {
		m.Shards = []File{}
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(&m, "", " ")
	if err != nil {
		return nil, err
	}
	tmp := path.Join(w.dir, ManifestName+".tmp")
	f, err := hackpadfs.OpenFile(w.fsys, tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := hackpadfs.WriteFile(f, append(data, '\n')); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := hackpadfs.Rename(w.fsys, tmp, path.Join(w.dir, ManifestName)); err != nil {
		return nil, fmt.Errorf("finish manifest: %w", err)
	}
	return &m, nil
}

// Bytes is the number of shard bytes written so far.
func (w *Writer) Bytes() int64 { return w.total }

// Abort closes an open shard after a failure (files stay; no manifest).
func (w *Writer) Abort() {
	if w.cur != nil {
		w.cur.Close()
		w.cur = nil
	}
}

func (w *Writer) openShard() error {
	name := ShardName(len(w.m.Shards))
	f, err := hackpadfs.OpenFile(w.fsys, path.Join(w.dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create shard: %w", err)
	}
	w.cur, w.hash, w.curLen = f, sha256.New(), 0
	w.m.Shards = append(w.m.Shards, File{File: name})
	return nil
}

func (w *Writer) closeShard() error {
	if w.cur == nil {
		return nil
	}
	err := w.cur.Close()
	w.cur = nil
	if err != nil {
		return fmt.Errorf("close shard: %w", err)
	}
	s := &w.m.Shards[len(w.m.Shards)-1]
	s.Bytes, s.SHA256 = w.curLen, hex.EncodeToString(w.hash.Sum(nil))
	return nil
}

func (w *Writer) write(p []byte) error {
	for len(p) > 0 {
		n, err := hackpadfs.WriteFile(w.cur, p)
		w.hash.Write(p[:n])
		w.curLen += int64(n)
		w.total += int64(n)
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		p = p[n:]
	}
	return nil
}

type countWriter struct {
	w *Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	if err := c.w.write(p); err != nil {
		return 0, err
	}
	c.n += int64(len(p))
	return len(p), nil
}
