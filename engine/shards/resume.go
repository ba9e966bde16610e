package shards

import (
	"fmt"
	"path"

	"github.com/hack-pad/hackpadfs"
)

// This file lets a streaming writer (the model store's download, which
// converts a GGUF as it arrives) commit shard by shard and resume after an
// interruption from its last closed shard, with the packing rule of
// AddTensor kept in one place.

// Committed is the closed part of an unfinished shard folder: every shard
// listed is complete (its bytes and SHA-256 known) and every tensor lies in
// one of them.
type Committed struct {
	Tensors []Tensor `json:"tensors"`
	Shards  []File   `json:"shards"`
	Bytes   int64    `json:"bytes"`
}

// CloseShardBefore closes the open shard when a tensor of size bytes would
// not fit in it, so the next AddTensor starts a new shard. It reports
// whether everything written so far is now closed (Committed then holds
// all of it).
func (w *Writer) CloseShardBefore(size int64) (bool, error) {
	if w.cur == nil {
		return true, nil
	}
	pad := (Align - w.curLen%Align) % Align
	if w.curLen > 0 && w.curLen+pad+size > w.shardSize {
		if err := w.closeShard(); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// Committed returns the closed shards and their tensors.
func (w *Writer) Committed() Committed {
	n := len(w.m.Shards)
	if w.cur != nil {
		n--
	}
	c := Committed{Shards: append([]File(nil), w.m.Shards[:n]...)}
	for _, t := range w.m.Tensors {
		if t.Shard < n {
			c.Tensors = append(c.Tensors, t)
		}
	}
	for _, s := range c.Shards {
		c.Bytes += s.Bytes
	}
	return c
}

// ResumeWriter continues a shard folder from c: the next tensor goes into a
// new shard numbered len(c.Shards), whose file is rewritten from scratch.
func ResumeWriter(fsys hackpadfs.FS, dir string, shardSize int64, c Committed) (*Writer, error) {
	w, err := NewWriter(fsys, dir, shardSize)
	if err != nil {
		return nil, err
	}
	for i, s := range c.Shards {
		if s.File != ShardName(i) {
			return nil, fmt.Errorf("resume %s: shard %d is %q, want %q", path.Clean(dir), i, s.File, ShardName(i))
		}
	}
	w.m.Shards = append([]File(nil), c.Shards...)
	w.m.Tensors = append([]Tensor(nil), c.Tensors...)
	w.total = c.Bytes
	return w, nil
}
