package httpfs

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/doppler-engine/doppler/engine/shards"
)

// NewShardFolder returns the FS of a shard folder published at baseURL: it
// fetches manifest.json once and lists exactly the files it names (with
// their sizes), so opening the model (shards.Open(fsys, ".") or
// model.OpenFS) needs no HEAD request and every tensor read is one Range GET.
func NewShardFolder(baseURL string, opts ...Option) (*FS, error) {
	probe, err := New(baseURL, opts...)
	if err != nil {
		return nil, err
	}
	resp, err := probe.get(shards.ManifestName, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("httpfs: %s: %w", probe.URL(shards.ManifestName), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("httpfs: %s: %w", probe.URL(shards.ManifestName), err)
	}
	var m shards.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("httpfs: %s is not a shard manifest: %w", probe.URL(shards.ManifestName), err)
	}
	files := map[string]int64{shards.ManifestName: int64(len(data))}
	for _, s := range m.Shards {
		files[s.File] = s.Bytes
	}
	if m.Metadata != nil {
		files[m.Metadata.File] = m.Metadata.Bytes
	}
	return New(baseURL, append(opts, WithFiles(files))...)
}
