// Package shards is Doppler's on-disk model format: a folder holding
// manifest.json, shard files of about ShardSize bytes, and metadata.gguf.
//
//	manifest.json  {"format":1, "architecture", "norms":"effective", "config":{model.Config},
//	                "tokenizer":{summary}, "metadata":{file,bytes,sha256},
//	                "tensors":[{name,shape,dtype,shard,offset,size}],
//	                "shards":[{file,bytes,sha256}]}
//	shard-00000.bin ...  tensor bytes in llama.cpp layouts, each tensor's
//	                offset aligned to Align bytes (zero padding between)
//	metadata.gguf   a tensor-less GGUF holding every metadata key of the
//	                source (tokenizer.*, general.*): GGUF keeps the value
//	                types exactly, which JSON would not.
//
// A tensor never spans shards: one larger than the shard size gets a shard
// of its own, so every tensor is one contiguous range of one file (one
// read, one GPU upload). The manifest is written last, so a folder without
// manifest.json is an unfinished conversion. Every file named by the
// manifest carries its SHA-256; readers check a shard the first time they
// read from it.
//
// The package knows bytes and names only; the model package turns a
// manifest into a model.Source and a model.Source into shards.
package shards

import (
	"encoding/json"
	"fmt"
	"path"

	"github.com/hack-pad/hackpadfs"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

// ManifestName is the manifest's file name inside a shard folder.
const ManifestName = "manifest.json"

// MetadataName is the metadata file's name inside a shard folder.
const MetadataName = "metadata.gguf"

// DefaultShardSize is the shard size when none is given (64 MiB).
const DefaultShardSize = 64 << 20

// Align is the alignment of tensor offsets inside a shard.
const Align = 64

// NormsEffective is the "norms" value: norm weights are stored as the
// multiplier the forward pass uses (Gemma's 1 + w already applied).
const NormsEffective = "effective"

// Manifest describes a shard folder.
type Manifest struct {
	Format       int             `json:"format"`
	Architecture string          `json:"architecture"`
	Norms        string          `json:"norms"`
	Config       json.RawMessage `json:"config"`
	Tokenizer    *Tokenizer      `json:"tokenizer,omitempty"`
	Metadata     *File           `json:"metadata,omitempty"`
	Tensors      []Tensor        `json:"tensors"`
	Shards       []File          `json:"shards"`
}

// Tokenizer is a human-readable summary; the full vocabulary is in metadata.gguf.
type Tokenizer struct {
	Model           string `json:"model,omitempty"`
	VocabSize       int    `json:"vocab_size"`
	BOS             *int   `json:"bos,omitempty"`
	EOS             *int   `json:"eos,omitempty"`
	HasChatTemplate bool   `json:"has_chat_template"`
}

// Tensor locates one tensor's bytes.
type Tensor struct {
	Name   string  `json:"name"`
	Shape  []int64 `json:"shape"` // ggml order
	DType  string  `json:"dtype"` // dtype name: "F32", "Q4_K", ...
	Shard  int     `json:"shard"` // index into Shards
	Offset int64   `json:"offset"`
	Size   int64   `json:"size"`
}

// File is one file of the folder with its size and SHA-256 (hex).
type File struct {
	File   string `json:"file"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// ReadManifest reads and checks dir/manifest.json.
func ReadManifest(fsys hackpadfs.FS, dir string) (*Manifest, error) {
	p := path.Join(dir, ManifestName)
	data, err := hackpadfs.ReadFile(fsys, p)
	if err != nil {
		return nil, fmt.Errorf("read shard manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s is not a valid manifest (%v): re-convert the model", p, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%s: %w: re-convert the model", p, err)
	}
	return &m, nil
}

func (m *Manifest) check() error {
	if m.Format != FormatVersion {
		return fmt.Errorf("manifest format %d, this build reads format %d", m.Format, FormatVersion)
	}
	if m.Norms != NormsEffective {
		return fmt.Errorf("manifest norms %q, want %q", m.Norms, NormsEffective)
	}
	for _, s := range m.Shards {
		if !validName(s.File) {
			return fmt.Errorf("bad shard file name %q", s.File)
		}
	}
	if m.Metadata != nil && !validName(m.Metadata.File) {
		return fmt.Errorf("bad metadata file name %q", m.Metadata.File)
	}
	seen := make(map[string]bool, len(m.Tensors))
	for _, t := range m.Tensors {
		if seen[t.Name] {
			return fmt.Errorf("tensor %s listed twice", t.Name)
		}
		seen[t.Name] = true
		if t.Shard < 0 || t.Shard >= len(m.Shards) {
			return fmt.Errorf("tensor %s names shard %d of %d", t.Name, t.Shard, len(m.Shards))
		}
		if t.Offset < 0 || t.Size < 0 || t.Offset+t.Size > m.Shards[t.Shard].Bytes {
			return fmt.Errorf("tensor %s [%d, +%d) lies outside shard %s (%d bytes)", t.Name, t.Offset, t.Size, m.Shards[t.Shard].File, m.Shards[t.Shard].Bytes)
		}
	}
	return nil
}

// validName accepts plain file names only: a manifest must not reach outside its folder.
func validName(n string) bool {
	return n != "" && n != "." && n != ".." && path.Base(n) == n && hackpadfs.ValidPath(n)
}

// ShardName is the file name of shard i.
func ShardName(i int) string { return fmt.Sprintf("shard-%05d.bin", i) }
