package store

import (
	"context"
	"fmt"
	"io"

	"github.com/hack-pad/hackpadfs"
)

// Import converts a local GGUF file, read once from r (size bytes, or -1
// when unknown), into a new model through the same streaming path as a
// download. The model id comes from name (the file name), made unique. An
// import cannot resume (the reader is gone), so a failed one leaves
// nothing behind.
func (s *Store) Import(ctx context.Context, r io.Reader, size int64, name string, progress ProgressFunc) (*Model, error) {
	id, err := s.freeID(makeID(name))
	if err != nil {
		return nil, err
	}
	ctx, done, err := s.start(ctx, id)
	if err != nil {
		return nil, err
	}
	defer done()
	rec := &Record{ID: id, Name: name, Source: "file:" + name, SourceBytes: max(size, 0), Created: s.o.Now().UTC()}
	if err := s.importFrom(ctx, rec, r, size, progress); err != nil {
		hackpadfs.RemoveAll(s.fs, s.dir(id))
		return nil, classify(id, "", err)
	}
	m, err := s.describe(id)
	if err != nil {
		return nil, classify(id, "", err)
	}
	return &m, nil
}

func (s *Store) importFrom(ctx context.Context, rec *Record, r io.Reader, size int64, progress ProgressFunc) error {
	if err := s.checkRoom(ctx, rec.ID, size); err != nil {
		return err
	}
	dir := s.dir(rec.ID)
	if err := hackpadfs.MkdirAll(s.fs, dir, 0o755); err != nil {
		return err
	}
	if err := writeJSON(s.fs, dir+"/"+recordName, rec); err != nil {
		return err
	}
	st := &progressState{Source: rec.Source, ShardSize: s.o.ShardSize, Size: size}
	j := &job{s: s, id: rec.ID, dir: dir, st: st, rec: rec, m: newMeter(rec.ID, progress, s.o.Now), buf: make([]byte, 1<<20)}
	return j.convert(&source{ctx: ctx, r: r, size: size})
}

// freeID returns id, or id-2, id-3, ... when a model already has it.
func (s *Store) freeID(id string) (string, error) {
	cand := id
	for n := 2; n < 1000; n++ {
		if !exists(s.fs, s.dir(cand)) {
			return cand, nil
		}
		cand = fmt.Sprintf("%s-%d", id, n)
	}
	return "", fmt.Errorf("too many models named %s", id)
}
