package tokenizer

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
)

func TestLoadHFFolder(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), refdata.Gunzip(t, "testdata/qwen3/tokenizer.json.gz"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), refdata.Gunzip(t, "testdata/qwen3/tokenizer_config.json.gz"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"qwen3"}`), 0o644))
	tok, err := Load(dir)
	require.NoError(t, err)
	want := mustHF(t, "qwen3")
	for _, s := range loadCorpus(t)[:50] {
		assert.Equal(t, want.Encode(s, true), tok.Encode(s, true))
	}
	name, err := tok.TemplateName()
	require.NoError(t, err)
	assert.Equal(t, TemplateQwen3, name)

	_, err = Load(t.TempDir())
	assert.ErrorContains(t, err, "tokenizer.json")
	_, err = Load(filepath.Join(dir, "missing.gguf"))
	assert.Error(t, err)
}

// Encode is safe for concurrent use (the word cache is shared).
func TestConcurrentEncode(t *testing.T) {
	tok := mustHF(t, "qwen3")
	corpus := loadCorpus(t)
	want := make([][]int32, len(corpus))
	for i, s := range corpus {
		want[i] = tok.Encode(s, false)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := range corpus {
				j := (i + g*37) % len(corpus)
				assert.Equal(t, want[j], tok.Encode(corpus[j], false))
			}
		}(g)
	}
	wg.Wait()
}
