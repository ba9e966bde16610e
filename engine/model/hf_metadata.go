package model

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/doppler-engine/doppler/engine/tokenizer"
	"github.com/hack-pad/hackpadfs"
)

// hfMetadata builds GGUF-style metadata for an HF folder: the architecture
// name and, when tokenizer.json is present, the tokenizer translated to
// tokenizer.* keys (tokenizer_config.json adds the chat template and
// special-token settings when present).
func hfMetadata(fsys hackpadfs.FS, dir string, c *Config) (map[string]any, error) {
	md := map[string]any{"general.architecture": GGUFArch(c.Architecture)}
	tok, err := hackpadfs.ReadFile(fsys, path.Join(dir, "tokenizer.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return md, nil
	}
	if err != nil {
		return nil, err
	}
	tokCfg, err := hackpadfs.ReadFile(fsys, path.Join(dir, "tokenizer_config.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	tm, err := tokenizer.HFToMetadata(tok, tokCfg)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	for k, v := range tm {
		md[k] = v
	}
	return md, nil
}

// GGUFArch is the general.architecture value llama.cpp uses for an
// architecture (mixtral is "llama" with expert tensors).
func GGUFArch(arch string) string {
	if arch == ArchMixtral {
		return ArchLlama
	}
	return arch
}
