package tokenizer

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
)

var hfMetaCache sync.Map

// hfMeta returns HFToMetadata of a committed HF tokenizer (testdata/VOCAB).
// Callers get a fresh top-level map; values are shared.
func hfMeta(t testing.TB, vocab string) map[string]any {
	t.Helper()
	v, ok := hfMetaCache.Load(vocab)
	if !ok {
		dir := filepath.Join("testdata", vocab)
		m, err := HFToMetadata(refdata.Gunzip(t, filepath.Join(dir, "tokenizer.json.gz")),
			refdata.Gunzip(t, filepath.Join(dir, "tokenizer_config.json.gz")))
		require.NoError(t, err)
		v, _ = hfMetaCache.LoadOrStore(vocab, m)
	}
	out := map[string]any{}
	for k, x := range v.(map[string]any) {
		out[k] = x
	}
	return out
}

type golden struct {
	HF              [][]int32 `json:"hf"`
	LlamaCppSpecial [][]int32 `json:"llamacpp_special"`
	LlamaCppPlain   [][]int32 `json:"llamacpp_plain"`
	Divergent       []struct {
		Index  int    `json:"index"`
		Reason string `json:"reason"`
	} `json:"divergent"`
}

func loadCorpus(t testing.TB) []string {
	b, err := os.ReadFile(filepath.Join("testdata", "corpus.json"))
	require.NoError(t, err)
	var c []string
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

// TestCorpusAgainstReferences checks ≥300 varied strings against goldens from
// two references (build/oracle/tokenizer.sh): the HF tokenizer (JS) reading
// tokenizer.json, and llama.cpp reading a GGUF of the same vocabulary.
//   - hf path: our tokenizer from HFToMetadata (BPE by merge rank) must give
//     the HF ids;
//   - gguf path: the same metadata as llama.cpp reads it (SentencePiece by
//     score for Gemma, no NFC for Qwen) must give llama.cpp's ids.
func TestCorpusAgainstReferences(t *testing.T) {
	corpus := loadCorpus(t)
	require.GreaterOrEqual(t, len(corpus), 300)
	for _, vocab := range []string{"gemma3", "gemma2", "qwen3"} {
		t.Run(vocab, func(t *testing.T) {
			var g golden
			require.NoError(t, json.Unmarshal(refdata.Gunzip(t, filepath.Join("testdata", "golden-"+vocab+".json.gz")), &g))
			require.Len(t, g.HF, len(corpus), "golden is stale: run make oracle")
			reason := map[int]string{}
			for _, d := range g.Divergent {
				reason[d.Index] = d.Reason
			}

			hfTok := mustHF(t, vocab)
			ggufMeta := hfMeta(t, vocab)
			if ggufMeta[KeyModel] == "llama" {
				delete(ggufMeta, KeyMerges) // llama.cpp reads "llama" vocabularies by score
			}
			delete(ggufMeta, KeyNormalizer) // llama.cpp does not normalize
			ggufTok, err := FromMetadata(ggufMeta)
			require.NoError(t, err)
			if vocab != "qwen3" {
				require.Equal(t, algoBPE, hfTok.algo)
				require.Equal(t, algoSPM, ggufTok.algo)
			}

			for i, s := range corpus {
				want := g.HF[i]
				assert.Equal(t, want, nonNil(hfTok.EncodeSpecial(s, false)), "hf path #%d %q", i, s)
				wantGGUF := g.LlamaCppSpecial[i]
				if reason[i] == "llamacpp-eog-control" {
					// We do not turn "</s>" into a control token in Qwen's
					// vocabulary; llama.cpp does (see tokenizer.mjs).
					wantGGUF = g.HF[i]
				}
				assert.Equal(t, wantGGUF, nonNil(ggufTok.EncodeSpecial(s, false)), "gguf path #%d %q", i, s)
				wantPlain := g.LlamaCppPlain[i]
				if s == "</s>" {
					// llama.cpp makes "</s>" a control (end-of-generation) token
					// by its text; Gemma's vocabulary has it as a user-defined
					// HTML tag token, which HF (and we) always match, so it
					// stays one token (and is no stop token).
					wantPlain = g.HF[i]
				}
				plain := ggufTok.Encode(s, false)
				assert.Equal(t, wantPlain, nonNil(plain), "gguf path, special tokens as text #%d %q", i, s)
				if reason[i] != "nfc" {
					assert.Equal(t, wantPlain, nonNil(hfTok.Encode(s, false)), "hf path, special tokens as text #%d %q", i, s)
				}
				// Round trip: user text comes back (Qwen's tokenizer.json
				// normalizes to NFC first).
				assert.Equal(t, s, ggufTok.Decode(plain), "gguf decode #%d", i)
				wantText := s
				if hfTok.nfc {
					wantText = norm.NFC.String(s)
				}
				assert.Equal(t, wantText, hfTok.Decode(hfTok.Encode(s, false)), "hf decode #%d", i)
			}
		})
	}
}

func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

// TestGemmaScoresAgreeWithMerges: on random text, SentencePiece merging by
// the scores HFToMetadata derives (how llama.cpp reads the GGUF) and BPE by
// merge rank (how HF reads tokenizer.json) give the same ids.
func TestGemmaScoresAgreeWithMerges(t *testing.T) {
	pool := []rune("aabcdeeefghiijklmnoopqrstuuvwxyz  ABCXYZ\n\n\t.,;:!?'\"()[]{}<>/\\-_=+*&^%$#@~`0123456789éèüßñ中文日本語한국어😀👍🏽▁ \u00a0")
	for _, vocab := range []string{"gemma3", "gemma2"} {
		bpe := mustHF(t, vocab)
		m := hfMeta(t, vocab)
		delete(m, KeyMerges)
		spm, err := FromMetadata(m)
		require.NoError(t, err)
		r := rand.New(rand.NewSource(3))
		for i := 0; i < 500; i++ {
			rs := make([]rune, 1+r.Intn(40))
			for j := range rs {
				rs[j] = pool[r.Intn(len(pool))]
			}
			s := string(rs)
			require.Equal(t, bpe.EncodeSpecial(s, false), spm.EncodeSpecial(s, false), "%s %q", vocab, s)
		}
	}
}
