package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/doppler-engine/doppler/engine/gguf"
)

// LoadGGUF reads the tokenizer of a .gguf file (vocab-only files too).
func LoadGGUF(path string) (*Tokenizer, error) {
	g, err := gguf.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t, err := FromMetadata(g.Metadata())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Load reads the tokenizer of a model: a .gguf file, or a folder holding an
// HF tokenizer.json (with tokenizer_config.json beside it when present).
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return LoadGGUF(path)
	}
	tj, err := os.ReadFile(filepath.Join(path, "tokenizer.json"))
	if err != nil {
		return nil, fmt.Errorf("%s: no tokenizer.json in the folder (%w)", path, err)
	}
	cfg, err := os.ReadFile(filepath.Join(path, "tokenizer_config.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	m, err := HFToMetadata(tj, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if b, err := os.ReadFile(filepath.Join(path, "config.json")); err == nil {
		var c struct {
			ModelType string `json:"model_type"`
		}
		if json.Unmarshal(b, &c) == nil && c.ModelType != "" {
			m[KeyArchitecture] = c.ModelType
		}
	}
	return FromMetadata(m)
}
