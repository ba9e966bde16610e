package model

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/hack-pad/hackpadfs"
)

// ManifestName marks a converted shard folder.
const ManifestName = shards.ManifestName

// shardSource reads a converted shard folder (see package shards).
type shardSource struct {
	r       *shards.Reader
	cfg     *Config
	tensors []TensorInfo
	meta    map[string]any
}

func openShardsFS(fsys hackpadfs.FS, dir string, o Options) (Source, error) {
	r, err := shards.Open(fsys, dir)
	if err != nil {
		return nil, err
	}
	m := r.Manifest
	s := &shardSource{r: r, cfg: new(Config), meta: map[string]any{}}
	if err := json.Unmarshal(m.Config, s.cfg); err != nil {
		return nil, fmt.Errorf("%s: manifest config: %v: re-convert the model", dir, err)
	}
	if s.cfg.Architecture != m.Architecture {
		return nil, fmt.Errorf("%s: manifest architecture %q but config architecture %q: re-convert the model", dir, m.Architecture, s.cfg.Architecture)
	}
	for _, t := range m.Tensors {
		dt, err := dtype.Parse(t.DType)
		if err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %v", dir, t.Name, err)
		}
		ti := TensorInfo{Name: t.Name, Shape: t.Shape, DType: dt}
		if n, err := ti.Bytes(); err != nil || n != t.Size {
			return nil, fmt.Errorf("%s: tensor %s: manifest size %d does not match %s %v: re-convert the model", dir, t.Name, t.Size, t.DType, t.Shape)
		}
		s.tensors = append(s.tensors, ti)
	}
	data, err := r.ReadMetadata()
	if err != nil {
		return nil, err
	}
	if data != nil {
		f, err := gguf.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v: re-convert the model", dir, shards.MetadataName, err)
		}
		s.meta = f.Metadata()
	}
	return finish(s, dir, o)
}

func (s *shardSource) Config() *Config                        { return s.cfg }
func (s *shardSource) Tensors() []TensorInfo                  { return s.tensors }
func (s *shardSource) Metadata() map[string]any               { return s.meta }
func (s *shardSource) ReadTensor(name string) ([]byte, error) { return s.r.ReadTensor(name) }
func (s *shardSource) Close() error                           { return nil }

// Verify checks every shard's SHA-256 now instead of on first read.
func (s *shardSource) Verify() error { return s.r.Verify() }

// Verifier is implemented by sources that can check their files' hashes.
type Verifier interface{ Verify() error }
