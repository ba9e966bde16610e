package tasks

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The families under test, with real vocabularies: Gemma 3 and Qwen3 from
// their tokenizer.json (engine/tokenizer's test data), Llama 3.2 from
// llama.cpp's vocab GGUF with Meta's template, Mixtral from llama.cpp's
// SentencePiece vocab with Mistral's template, and stories260K (no
// template: plain prompts).
var families = []string{"gemma3", "llama3.2", "mixtral", "qwen3", "stories260K"}

var (
	tokMu    sync.Mutex
	tokCache = map[string]*tokenizer.Tokenizer{}
)

func ggufMetadata(t testing.TB, p string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	g, err := gguf.Read(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	return g.Metadata()
}

// familyTok loads a family's tokenizer once per test binary.
func familyTok(t testing.TB, family string) *tokenizer.Tokenizer {
	t.Helper()
	tokMu.Lock()
	defer tokMu.Unlock()
	if tok, ok := tokCache[family]; ok {
		return tok
	}
	var md map[string]any
	tokData := filepath.Join("..", "tokenizer", "testdata")
	switch family {
	case "gemma3", "qwen3":
		var err error
		md, err = tokenizer.HFToMetadata(refdata.Gunzip(t, filepath.Join(tokData, family, "tokenizer.json.gz")),
			refdata.Gunzip(t, filepath.Join(tokData, family, "tokenizer_config.json.gz")))
		require.NoError(t, err)
		md[tokenizer.KeyArchitecture] = family
	case "llama3.2":
		dir, err := refdata.TokenizerTestsDir()
		md = ggufMetadata(t, filepath.Join(refdata.Must(t, dir, err), "ggml-vocab-llama-bpe.gguf"))
		tpl, err := tokenizer.ReferenceTemplate("llama3.2")
		require.NoError(t, err)
		md = copyMap(md)
		md[tokenizer.KeyChatTemplate] = tpl
	case "mixtral":
		dir, err := refdata.TokenizerTestsDir()
		md = copyMap(ggufMetadata(t, filepath.Join(refdata.Must(t, dir, err), "ggml-vocab-llama-spm.gguf")))
		tpl, err := tokenizer.ReferenceTemplate("mixtral")
		require.NoError(t, err)
		md[tokenizer.KeyChatTemplate] = tpl
	case "stories260K":
		p, err := refdata.Stories260K()
		md = ggufMetadata(t, refdata.Must(t, p, err))
	default:
		t.Fatalf("unknown family %s", family)
	}
	tok, err := tokenizer.FromMetadata(md)
	require.NoError(t, err)
	tokCache[family] = tok
	return tok
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestMain(m *testing.M) {
	// Llama 3.2's template dates the system block today: fix the day.
	tokenizer.Now = func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	code := m.Run()
	if tempDir != "" {
		os.RemoveAll(tempDir)
	}
	os.Exit(code)
}

var tempDir string

// testTempDir is a directory for the whole test binary, removed by TestMain.
func testTempDir() (string, error) {
	if tempDir != "" {
		return tempDir, nil
	}
	d, err := os.MkdirTemp("", "doppler-tasks-")
	tempDir = d
	return d, err
}
