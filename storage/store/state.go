package store

import (
	"encoding/json"
	"fmt"
	"path"
	"time"

	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/hack-pad/hackpadfs"
)

// Files of a model folder besides the shard folder's own.
const (
	recordName = "model.json"         // the store's record of the model
	stateName  = "download.json"      // progress of an unfinished download
	headerName = "source-header.gguf" // the source's GGUF header, while unfinished
)

// Record is a model folder's model.json.
type Record struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Source       string    `json:"source"` // URL, or "file:NAME" for an import
	CatalogID    string    `json:"catalogId,omitempty"`
	Architecture string    `json:"architecture,omitempty"`
	Quantization string    `json:"quantization,omitempty"`
	SourceBytes  int64     `json:"sourceBytes"` // size of the GGUF file, 0 when unknown
	Ready        bool      `json:"ready"`       // every shard written and verified
	Corrupt      bool      `json:"corrupt,omitempty"`
	Created      time.Time `json:"created"`
}

// progressState is download.json: enough to resume from the last shard
// closed. Offset bytes of the source were consumed, Hash is the marshaled
// SHA-256 state of exactly those bytes (when the file's hash is checked),
// and Next indexes the tensors in data order.
type progressState struct {
	Source       string           `json:"source"`
	Size         int64            `json:"size"`
	ETag         string           `json:"etag,omitempty"`
	LastModified string           `json:"lastModified,omitempty"`
	SHA256       string           `json:"sha256,omitempty"`
	ShardSize    int64            `json:"shardSize"`
	HeaderBytes  int64            `json:"headerBytes"` // 0 until the header is saved
	Offset       int64            `json:"offset"`
	Next         int              `json:"next"`
	Hash         []byte           `json:"hash,omitempty"`
	Committed    shards.Committed `json:"committed"`
}

// readJSON reads p, or the temporary file of an interrupted writeJSON when
// p itself is gone (the rename replaces p in two steps on OPFS).
func readJSON(fsys hackpadfs.FS, p string, v any) error {
	data, err := hackpadfs.ReadFile(fsys, p)
	if isNotExist(err) {
		if tmp, terr := hackpadfs.ReadFile(fsys, p+".tmp"); terr == nil && json.Valid(tmp) {
			data, err = tmp, nil
		}
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// writeJSON replaces p atomically (temporary file, then rename), so a crash
// leaves the old or the new content, never half of one.
func writeJSON(fsys hackpadfs.FS, p string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	f, err := hackpadfs.OpenFile(fsys, tmp, hackpadfs.FlagWriteOnly|hackpadfs.FlagCreate|hackpadfs.FlagTruncate, 0o644)
	if err != nil {
		return err
	}
	if _, err := hackpadfs.WriteFile(f, data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return hackpadfs.Rename(fsys, tmp, p)
}

func (s *Store) dir(id string) string { return path.Join(s.root, id) }
