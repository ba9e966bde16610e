package tokenizer

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// article builds ~n bytes of English prose in paragraphs from the corpus
// sentences (deterministic).
func article(t testing.TB, n int) string {
	var sentences []string
	for _, s := range loadCorpus(t) {
		if len(s) > 20 && !strings.ContainsAny(s, "<>{}\t") && strings.Count(s, "\n") == 0 {
			sentences = append(sentences, s)
		}
	}
	r := rand.New(rand.NewSource(1))
	var b strings.Builder
	for b.Len() < n {
		for i := 0; i < 5 && b.Len() < n; i++ {
			b.WriteString(sentences[r.Intn(len(sentences))])
			b.WriteByte(' ')
		}
		b.WriteString("\n\n")
	}
	return b.String()[:n]
}

// BenchmarkEncodeArticle reports tokens/s for a 100 KB article with the Gemma 3
// vocabulary, both as llama.cpp's GGUFs carry it (SentencePiece by score) and
// as tokenizer.json does (BPE by merge rank).
func BenchmarkEncodeArticle(b *testing.B) {
	text := article(b, 100<<10)
	for _, path := range []string{"gguf-spm", "hf-bpe"} {
		b.Run(path, func(b *testing.B) {
			m := hfMeta(b, "gemma3")
			if path == "gguf-spm" {
				delete(m, KeyMerges)
			}
			tok, err := FromMetadata(m)
			require.NoError(b, err)
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			n := 0
			for i := 0; i < b.N; i++ {
				n = len(tok.Encode(text, true))
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// TestEncodeArticleFast guards against quadratic merging: 100 KB must encode
// in well under a second (the bound is loose for slow CI machines).
func TestEncodeArticleFast(t *testing.T) {
	text := article(t, 100<<10)
	bpe := mustHF(t, "gemma3")
	m := hfMeta(t, "gemma3")
	delete(m, KeyMerges)
	spm, err := FromMetadata(m)
	require.NoError(t, err)
	for i, tok := range []*Tokenizer{spm, bpe, spm, bpe} {
		start := time.Now()
		ids := tok.Encode(text, false)
		d := time.Since(start)
		t.Logf("%s: %d bytes → %d tokens in %v", []string{"SentencePiece (GGUF)", "BPE (tokenizer.json)"}[i%2], len(text), len(ids), d)
		require.Less(t, d, 2*time.Second)
		require.Equal(t, text, tok.Decode(ids))
	}
	require.Equal(t, spm.Encode(text, false), bpe.Encode(text, false))
}
