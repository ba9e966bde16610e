package shards

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"sync"

	"github.com/hack-pad/hackpadfs"
)

// Reader reads tensors from a shard folder, checking each shard's size and
// SHA-256 the first time it is read from.
type Reader struct {
	fsys     hackpadfs.FS
	dir      string
	Manifest *Manifest
	index    map[string]int

	mu       sync.Mutex
	verified []bool
}

// Open reads the manifest of the shard folder dir.
func Open(fsys hackpadfs.FS, dir string) (*Reader, error) {
	m, err := ReadManifest(fsys, dir)
	if err != nil {
		return nil, err
	}
	r := &Reader{fsys: fsys, dir: dir, Manifest: m, index: make(map[string]int, len(m.Tensors)), verified: make([]bool, len(m.Shards))}
	for i, t := range m.Tensors {
		r.index[t.Name] = i
	}
	return r, nil
}

// CorruptError says which file of a shard folder is damaged.
type CorruptError struct {
	Dir, File string
	Reason    string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("model shard %s in %s is corrupt (%s): download or convert the model again", e.File, e.Dir, e.Reason)
}

// Tensor returns the manifest entry of a tensor.
func (r *Reader) Tensor(name string) (Tensor, bool) {
	i, ok := r.index[name]
	if !ok {
		return Tensor{}, false
	}
	return r.Manifest.Tensors[i], true
}

// ReadTensor returns one tensor's bytes, verifying its shard first.
func (r *Reader) ReadTensor(name string) ([]byte, error) {
	t, ok := r.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("no tensor %q in the shard manifest", name)
	}
	if err := r.VerifyShard(t.Shard); err != nil {
		return nil, err
	}
	s := r.Manifest.Shards[t.Shard]
	f, err := r.fsys.Open(path.Join(r.dir, s.File))
	if err != nil {
		return nil, &CorruptError{Dir: r.dir, File: s.File, Reason: err.Error()}
	}
	defer f.Close()
	buf := make([]byte, t.Size)
	n, err := hackpadfs.ReadAtFile(f, buf, t.Offset)
	if n < len(buf) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, &CorruptError{Dir: r.dir, File: s.File, Reason: err.Error()}
	}
	return buf, nil
}

// ReadMetadata returns the verified bytes of the metadata file (nil if none).
func (r *Reader) ReadMetadata() ([]byte, error) {
	m := r.Manifest.Metadata
	if m == nil {
		return nil, nil
	}
	data, err := hackpadfs.ReadFile(r.fsys, path.Join(r.dir, m.File))
	if err != nil {
		return nil, &CorruptError{Dir: r.dir, File: m.File, Reason: err.Error()}
	}
	if err := checkBytes(data, *m); err != nil {
		return nil, &CorruptError{Dir: r.dir, File: m.File, Reason: err.Error()}
	}
	return data, nil
}

func checkBytes(data []byte, f File) error {
	if int64(len(data)) != f.Bytes {
		return fmt.Errorf("%d bytes, the manifest says %d", len(data), f.Bytes)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
		return fmt.Errorf("SHA-256 %s, the manifest says %s", got, f.SHA256)
	}
	return nil
}

// VerifyShard checks shard i's size and SHA-256 once; later calls are free.
func (r *Reader) VerifyShard(i int) error {
	r.mu.Lock()
	done := r.verified[i]
	r.mu.Unlock()
	if done {
		return nil
	}
	s := r.Manifest.Shards[i]
	f, err := r.fsys.Open(path.Join(r.dir, s.File))
	if err != nil {
		return &CorruptError{Dir: r.dir, File: s.File, Reason: err.Error()}
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return &CorruptError{Dir: r.dir, File: s.File, Reason: err.Error()}
	}
	if n != s.Bytes {
		return &CorruptError{Dir: r.dir, File: s.File, Reason: fmt.Sprintf("%d bytes, the manifest says %d", n, s.Bytes)}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != s.SHA256 {
		return &CorruptError{Dir: r.dir, File: s.File, Reason: fmt.Sprintf("SHA-256 %s, the manifest says %s", got, s.SHA256)}
	}
	r.mu.Lock()
	r.verified[i] = true
	r.mu.Unlock()
	return nil
}

// Verify checks every shard and the metadata file.
func (r *Reader) Verify() error {
	for i := range r.Manifest.Shards {
		if err := r.VerifyShard(i); err != nil {
			return err
		}
	}
	_, err := r.ReadMetadata()
	return err
}
