package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"sort"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/hack-pad/hackpadfs"
)

// source is the GGUF byte stream being converted, positioned at off.
type source struct {
	ctx  context.Context
	r    io.Reader
	off  int64
	size int64     // -1 when unknown
	hash hash.Hash // of source[0:off], nil when the file's hash is not checked
	net  bool      // read errors are network errors (a download)
}

func (s *source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	if s.size >= 0 && int64(len(p)) > s.size-s.off {
		p = p[:max(s.size-s.off, 0)]
		if len(p) == 0 {
			return 0, io.EOF
		}
	}
	n, err := s.r.Read(p)
	if n > 0 {
		if s.hash != nil {
			s.hash.Write(p[:n])
		}
		s.off += int64(n)
	}
	if err == io.EOF && s.size >= 0 && s.off < s.size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		if ctxErr := s.ctx.Err(); ctxErr != nil {
			return n, ctxErr
		}
		if s.net {
			err = &networkError{fmt.Errorf("connection lost after %d of %d bytes: %w", s.off, s.size, err)}
		}
	}
	return n, err
}

// skipTo reads and drops bytes up to absolute offset off.
func (s *source) skipTo(off int64) error {
	if off < s.off {
		return &invalidError{fmt.Errorf("tensor data at offset %d overlaps data already read (offset %d)", off, s.off)}
	}
	n, err := io.CopyN(io.Discard, s, off-s.off)
	if err == io.EOF && n < off-s.off {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func marshalHash(h hash.Hash) ([]byte, error) {
	if h == nil {
		return nil, nil
	}
	return h.(encoding.BinaryMarshaler).MarshalBinary()
}

func restoreHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if len(state) > 0 {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
			return nil, fmt.Errorf("resume state: %w", err)
		}
	}
	return h, nil
}

// job converts one source into the shard folder of model id.
type job struct {
	s       *Store
	id      string
	dir     string
	st      *progressState
	rec     *Record
	m       *meter
	persist bool // keep download.json for resuming (downloads, not imports)
	buf     []byte
}

// convert streams src (positioned at j.st.Offset) into shards: the header
// is parsed as it arrives, each tensor's bytes go straight into its shard,
// and download.json is rewritten each time a shard is closed.
func (j *job) convert(src *source) error {
	fsys := j.s.fs
	f, err := j.header(src)
	if err != nil {
		return err
	}
	infos := make([]model.TensorInfo, len(f.Tensors))
	order := make([]int, len(f.Tensors))
	for i, t := range f.Tensors {
		infos[i] = model.TensorInfo{Name: t.Name, Shape: append([]int64(nil), t.Shape...), DType: t.Type}
		order[i] = i
	}
	if len(infos) == 0 {
		return &invalidError{errors.New("the GGUF file has no tensors (vocab-only?): nothing to run")}
	}
	cfg, err := model.ConfigFromGGUF(f, infos)
	if err != nil {
		return &invalidError{err}
	}
	if ps := model.Validate(cfg, infos); len(ps) > 0 {
		return &model.InvalidError{Source: j.id, Problems: ps}
	}
	if j.rec.Architecture == "" || j.rec.Quantization == "" {
		j.rec.Architecture = cfg.Architecture
		if j.rec.Quantization == "" {
			j.rec.Quantization = mainType(f)
		}
		if err := writeJSON(fsys, path.Join(j.dir, recordName), j.rec); err != nil {
			return err
		}
	}
	// A stream can only be read forward: tensors are written in data order,
	// which is the header's order in every llama.cpp file (and then the
	// manifest equals native convert's).
	sort.SliceStable(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })

	var w *shards.Writer
	if j.st.Next == 0 && len(j.st.Committed.Shards) == 0 {
		w, err = shards.NewWriter(fsys, j.dir, j.st.ShardSize)
	} else {
		w, err = shards.ResumeWriter(fsys, j.dir, j.st.ShardSize, j.st.Committed)
	}
	if err != nil {
		return err
	}
	defer w.Abort()
	j.m.begin(PhaseDownloading, src.off, max(src.size, 0))
	for i := j.st.Next; i < len(order); i++ {
		t := f.Tensors[order[i]]
		size, err := t.Bytes()
		if err != nil {
			return &invalidError{err}
		}
		if err := src.skipTo(f.DataOffset + int64(t.Offset)); err != nil {
			return err
		}
		closed, err := w.CloseShardBefore(size)
		if err != nil {
			return err
		}
		if closed && j.persist && i > j.st.Next {
			if err := j.save(src, i, w.Committed()); err != nil {
				return err
			}
		}
		if err := w.AddTensor(t.Name, t.Shape, t.Type.String(), size, func(dst io.Writer) error {
			_, err := io.CopyBuffer(dst, io.LimitReader(src, size), j.buf)
			return err
		}); err != nil {
			return err
		}
		j.m.report(src.off, false)
	}
	if src.size > 0 {
		if err := src.skipTo(src.size); err != nil { // trailing bytes, for the file hash
			return err
		}
	}
	j.m.report(src.off, true)
	if j.st.SHA256 != "" && src.hash != nil {
		if got := hex.EncodeToString(src.hash.Sum(nil)); got != j.st.SHA256 {
			j.st.Next, j.st.Committed, j.st.Offset, j.st.HeaderBytes, j.st.Hash = 0, shards.Committed{}, 0, 0, nil
			if j.persist {
				writeJSON(fsys, path.Join(j.dir, stateName), j.st) // a retry starts over
			}
			return &networkError{fmt.Errorf("downloaded file has SHA-256 %s, expected %s", got, j.st.SHA256)}
		}
	}

	j.m.begin(PhaseConverting, 0, 0)
	md := f.Metadata()
	meta, err := model.MetadataGGUF(md)
	if err != nil {
		return &invalidError{err}
	}
	ref, err := w.AddFile(shards.MetadataName, meta)
	if err != nil {
		return err
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if _, err := w.Finish(shards.Manifest{Architecture: cfg.Architecture, Config: cfgJSON, Tokenizer: model.TokenizerSummary(md), Metadata: ref}); err != nil {
		return err
	}
	return j.verify()
}

// header parses the GGUF header: from the stream on a fresh start (saving
// its bytes for a resume), else from the saved copy.
func (j *job) header(src *source) (*gguf.File, error) {
	hp := path.Join(j.dir, headerName)
	if j.st.HeaderBytes > 0 {
		data, err := hackpadfs.ReadFile(j.s.fs, hp)
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		return gguf.ReadHeader(bytes.NewReader(data))
	}
	var raw bytes.Buffer
	f, err := gguf.ReadHeader(io.TeeReader(src, &raw))
	if err != nil {
		var ne *networkError
		if errors.As(err, &ne) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, &invalidError{err}
	}
	if !j.persist {
		return f, nil
	}
	if err := hackpadfs.WriteFullFile(j.s.fs, hp, raw.Bytes(), 0o644); err != nil {
		return nil, err
	}
	j.st.HeaderBytes = f.DataOffset
	return f, j.save(src, 0, shards.Committed{})
}

// save records that the source was consumed up to src.off, tensors before
// data-order index next are in the committed shards.
func (j *job) save(src *source, next int, c shards.Committed) error {
	h, err := marshalHash(src.hash)
	if err != nil {
		return err
	}
	j.st.Offset, j.st.Next, j.st.Hash, j.st.Committed = src.off, next, h, c
	return writeJSON(j.s.fs, path.Join(j.dir, stateName), j.st)
}

// verify re-reads every shard and the metadata file, checking sizes and
// SHA-256 against the manifest, then marks the model ready.
func (j *job) verify() error {
	r, err := shards.Open(j.s.fs, j.dir)
	if err != nil {
		return err
	}
	var total, done int64
	for _, s := range r.Manifest.Shards {
		total += s.Bytes
	}
	j.m.begin(PhaseVerifying, 0, total)
	for i, s := range r.Manifest.Shards {
		if err := verifyFile(j.s.fs, j.dir, s, func() error { return r.VerifyShard(i) }); err != nil {
			return err
		}
		done += s.Bytes
		j.m.report(done, i == len(r.Manifest.Shards)-1)
	}
	if md := r.Manifest.Metadata; md != nil {
		if err := verifyFile(j.s.fs, j.dir, *md, func() error { _, err := r.ReadMetadata(); return err }); err != nil {
			return err
		}
	}
	j.rec.Ready, j.rec.Corrupt = true, false
	if err := writeJSON(j.s.fs, path.Join(j.dir, recordName), j.rec); err != nil {
		return err
	}
	for _, n := range []string{stateName, stateName + ".tmp", headerName} {
		if err := hackpadfs.Remove(j.s.fs, path.Join(j.dir, n)); err != nil && !isNotExist(err) {
			return err
		}
	}
	return nil
}

// mainType names the quantization by the type holding the most bytes.
func mainType(f *gguf.File) string {
	by := map[dtype.DType]int64{}
	for _, t := range f.Tensors {
		if n, err := t.Bytes(); err == nil && len(t.Shape) >= 2 {
			by[t.Type] += n
		}
	}
	best, bestN := "", int64(-1)
	for t, n := range by {
		if n > bestN || n == bestN && t.String() < best {
			best, bestN = t.String(), n
		}
	}
	return best
}

// digester is a file system that hashes a file itself, faster than reading
// it into Go (opfs.FS: crypto.subtle in the browser).
type digester interface {
	SHA256(name string) ([]byte, error)
}

// verifyFile checks f's size and SHA-256, by the FS's own digest when it
// has one, else with slow (the shard reader's check, in Go).
func verifyFile(fsys hackpadfs.FS, dir string, f shards.File, slow func() error) error {
	d, ok := fsys.(digester)
	if !ok {
		return slow()
	}
	p := path.Join(dir, f.File)
	info, err := hackpadfs.Stat(fsys, p)
	if err != nil {
		return &shards.CorruptError{Dir: dir, File: f.File, Reason: err.Error()}
	}
	if info.Size() != f.Bytes {
		return &shards.CorruptError{Dir: dir, File: f.File, Reason: fmt.Sprintf("%d bytes, the manifest says %d", info.Size(), f.Bytes)}
	}
	sum, err := d.SHA256(p)
	if err != nil {
		return &shards.CorruptError{Dir: dir, File: f.File, Reason: err.Error()}
	}
	if got := hex.EncodeToString(sum); got != f.SHA256 {
		return &shards.CorruptError{Dir: dir, File: f.File, Reason: fmt.Sprintf("SHA-256 %s, the manifest says %s", got, f.SHA256)}
	}
	return nil
}
