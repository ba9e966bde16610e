package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/hack-pad/hackpadfs"
)

// EstimateFunc reports the storage used and the quota, in bytes: in the
// browser navigator.storage.estimate() (opfs.Estimate), natively whatever a
// test wants.
type EstimateFunc func(ctx context.Context) (usage, quota int64, err error)

// Options configure a Store.
type Options struct {
	Root      string        // folder of the FS holding the models (default "models")
	Client    *http.Client  // default http.DefaultClient (fetch in js/wasm)
	Estimate  EstimateFunc  // consulted before a job starts; nil: no check
	ShardSize int64         // default shards.DefaultShardSize
	Retries   int           // reconnections per download after a drop (default 5)
	Backoff   time.Duration // first wait before reconnecting, doubling (default 1s)
	Now       func() time.Time
}

// Store keeps models, each a shard folder Root/ID plus model.json, on a
// hackpadfs FS (OPFS in the browser, memory or OS natively). It needs the
// FS to support OpenFile, Mkdir, Remove, Rename, Stat and ReadDir.
type Store struct {
	fs   hackpadfs.FS
	root string
	o    Options

	mu     sync.Mutex
	active map[string]*running
}

type running struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns the store of fsys.
func New(fsys hackpadfs.FS, o Options) (*Store, error) {
	if o.Root == "" {
		o.Root = "models"
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.ShardSize <= 0 {
		o.ShardSize = shards.DefaultShardSize
	}
	if o.Retries == 0 {
		o.Retries = 5
	}
	if o.Backoff == 0 {
		o.Backoff = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := hackpadfs.MkdirAll(fsys, o.Root, 0o755); err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	return &Store{fs: fsys, root: o.Root, o: o, active: map[string]*running{}}, nil
}

// Model is one entry of List.
type Model struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Architecture string `json:"architecture,omitempty"`
	Quantization string `json:"quantization,omitempty"`
	Source       string `json:"source,omitempty"`
	CatalogID    string `json:"catalogId,omitempty"`
	SourceBytes  int64  `json:"sourceBytes,omitempty"`
	Bytes        int64  `json:"bytes"`      // on disk
	Ready        bool   `json:"ready"`      // verified and loadable
	Downloaded   int64  `json:"downloaded"` // source bytes committed, while partial
	Corrupt      bool   `json:"corrupt,omitempty"`
	Active       bool   `json:"active,omitempty"` // a job runs on it now
}

// Dir is the shard folder of model id (for model.OpenFS and shards.Open).
func (s *Store) Dir(id string) string { return s.dir(id) }

// FS is the store's file system.
func (s *Store) FS() hackpadfs.FS { return s.fs }

// List describes every model folder, ready or not, by id.
func (s *Store) List() ([]Model, error) {
	entries, err := hackpadfs.ReadDir(s.fs, s.root)
	if err != nil {
		return nil, err
	}
	var out []Model
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		m, err := s.describe(e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *Store) describe(id string) (Model, error) {
	dir := s.dir(id)
	m := Model{ID: id, Name: id}
	var rec Record
	if err := readJSON(s.fs, path.Join(dir, recordName), &rec); err == nil {
		m.Name, m.Architecture, m.Quantization = rec.Name, rec.Architecture, rec.Quantization
		m.Source, m.CatalogID, m.SourceBytes, m.Corrupt = rec.Source, rec.CatalogID, rec.SourceBytes, rec.Corrupt
		m.Ready = rec.Ready && !rec.Corrupt && exists(s.fs, path.Join(dir, shards.ManifestName))
	}
	var st progressState
	if err := readJSON(s.fs, path.Join(dir, stateName), &st); err == nil {
		m.Downloaded = st.Offset
		m.Ready = false
	}
	n, err := treeSize(s.fs, dir)
	if err != nil {
		return m, err
	}
	m.Bytes = n
	s.mu.Lock()
	_, m.Active = s.active[id]
	s.mu.Unlock()
	return m, nil
}

// Usage is the bytes of every model folder.
func (s *Store) Usage() (int64, error) { return treeSize(s.fs, s.root) }

// Delete removes model id, stopping a job running on it first.
func (s *Store) Delete(id string) error {
	if !validID(id) {
		return &Error{Code: CodeNoModel, ModelID: id, Message: fmt.Sprintf("%q is not a model id", id)}
	}
	s.mu.Lock()
	r := s.active[id]
	s.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
	if !exists(s.fs, s.dir(id)) {
		return &Error{Code: CodeNoModel, ModelID: id, Message: fmt.Sprintf("No model %s to delete.", id)}
	}
	return hackpadfs.RemoveAll(s.fs, s.dir(id))
}

// Open returns a reader of ready model id. Each shard's SHA-256 is checked
// on first read; a mismatch then is a *shards.CorruptError, which
// Classify turns into corrupt-model (see also Verify).
func (s *Store) Open(id string) (*shards.Reader, error) {
	m, err := s.describe(id)
	if err != nil || !m.Ready {
		return nil, &Error{Code: CodeNoModel, ModelID: id, Message: fmt.Sprintf("Model %s is not downloaded (or not completely): download it first.", id), Err: err}
	}
	return shards.Open(s.fs, s.dir(id))
}

// Verify checks every shard of model id against its SHA-256. A damaged
// model is marked corrupt (List shows it, no longer ready) and the error
// has code corrupt-model with the source to download again.
func (s *Store) Verify(id string) error {
	r, err := s.Open(id)
	if err != nil {
		return err
	}
	dir := s.dir(id)
	for i, f := range r.Manifest.Shards {
		if err := verifyFile(s.fs, dir, f, func() error { return r.VerifyShard(i) }); err != nil {
			return s.markCorrupt(id, err)
		}
	}
	if md := r.Manifest.Metadata; md != nil {
		if err := verifyFile(s.fs, dir, *md, func() error { _, err := r.ReadMetadata(); return err }); err != nil {
			return s.markCorrupt(id, err)
		}
	}
	return nil
}

// Classify turns an error met while using model id (e.g. a shard read by
// the runtime) into an *Error; a corrupt shard marks the model corrupt.
func (s *Store) Classify(id string, err error) *Error {
	var c *shards.CorruptError
	if errors.As(err, &c) {
		s.markCorrupt(id, err)
	}
	var rec Record
	readJSON(s.fs, path.Join(s.dir(id), recordName), &rec)
	return classify(id, redownload(rec), err)
}

func (s *Store) markCorrupt(id string, err error) error {
	p := path.Join(s.dir(id), recordName)
	var rec Record
	if rerr := readJSON(s.fs, p, &rec); rerr == nil {
		rec.Corrupt = true
		writeJSON(s.fs, p, &rec)
	}
	return classify(id, redownload(rec), err)
}

// redownload is what to download to replace a record's model.
func redownload(rec Record) string {
	if rec.CatalogID != "" {
		return rec.CatalogID
	}
	if strings.HasPrefix(rec.Source, "file:") {
		return ""
	}
	return rec.Source
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`)

func validID(id string) bool { return idRE.MatchString(id) && !strings.Contains(id, "..") }

// makeID derives a model id from a file name: lower case, .gguf dropped,
// anything but [a-z0-9._-] turned into '-'.
func makeID(name string) string {
	name = strings.ToLower(path.Base(name))
	name = strings.TrimSuffix(name, ".gguf")
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	id := strings.Trim(strings.ReplaceAll(b.String(), "..", "."), "-.")
	if len(id) > 100 {
		id = id[:100]
	}
	if id == "" {
		id = "model"
	}
	return id
}

func exists(fsys hackpadfs.FS, p string) bool {
	_, err := hackpadfs.Stat(fsys, p)
	return err == nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func treeSize(fsys hackpadfs.FS, dir string) (int64, error) {
	var n int64
	err := hackpadfs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				return nil // removed while we walked
			}
			return err
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				if isNotExist(err) {
					return nil
				}
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// start registers a job on id; only one job per model at a time.
func (s *Store) start(ctx context.Context, id string) (context.Context, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, busy := s.active[id]; busy {
		return nil, nil, &Error{Code: CodeInternal, ModelID: id, Message: fmt.Sprintf("Model %s is already being downloaded.", id)}
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &running{cancel: cancel, done: make(chan struct{})}
	s.active[id] = r
	return ctx, func() {
		cancel()
		s.mu.Lock()
		delete(s.active, id)
		s.mu.Unlock()
		close(r.done)
	}, nil
}

// checkRoom fails with a quota error, before anything is written, when the
// estimate leaves less than need bytes (plus 1% and 1 MiB of slack for
// metadata and the manifest).
func (s *Store) checkRoom(ctx context.Context, id string, need int64) error {
	if s.o.Estimate == nil || need <= 0 {
		return nil
	}
	usage, quota, err := s.o.Estimate(ctx)
	if err != nil {
		return fmt.Errorf("storage estimate: %w", err)
	}
	want := need + need/100 + 1<<20
	if free := quota - usage; free < want {
		return &Error{Code: CodeQuota, ModelID: id, Message: fmt.Sprintf(
			"Model %s needs %s but only %s of storage is free: delete a model or free disk space, then try again.",
			id, mb(want), mb(max(free, 0)))}
	}
	return nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
