package tokenizer

import (
	"math/rand"
	"path/filepath"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var suiteCache sync.Map

// suiteTok loads (once) a vocabulary of llama.cpp's tokenizer suite.
func suiteTok(t *testing.T, vocab string) *Tokenizer {
	t.Helper()
	if v, ok := suiteCache.Load(vocab); ok {
		return v.(*Tokenizer)
	}
	dir, err := refdata.TokenizerTestsDir()
	dir = refdata.Must(t, dir, err)
	tok, err := LoadGGUF(filepath.Join(dir, "ggml-vocab-"+vocab+".gguf"))
	require.NoError(t, err)
	suiteCache.Store(vocab, tok)
	return tok
}

func TestStreamDecoderNeverSplitsCharacters(t *testing.T) {
	texts := []string{
		"Hello world", "  leading spaces", "🦙 llamas and 🐍 snakes", "中文和日本語のテキスト",
		"emoji😀inside😀words", "tab\tnew\nline", "Ω≈ç√∫˜µ≤≥÷", "👨‍👩‍👧‍👦 family",
	}
	for _, vocab := range []string{"llama-spm", "gpt-2", "qwen2", "gemma-4"} {
		tok := suiteTok(t, vocab)
		for _, s := range texts {
			for _, add := range []bool{false, true} {
				ids := tok.Encode(s, add)
				d := tok.NewStreamDecoder()
				got := ""
				for _, id := range ids {
					chunk := d.Push(id)
					assert.True(t, utf8.ValidString(chunk), "%s: chunk %q of %q splits a character", vocab, chunk, s)
					got += chunk
				}
				got += d.Flush()
				assert.Equal(t, tok.Decode(ids), got, "%s: stream == Decode for %q", vocab, s)
				if !add || vocab != "llama-spm" {
					assert.Equal(t, s, got, "%s: round trip of %q (add_special=%v)", vocab, s, add)
				}
			}
		}
	}
}

func TestStreamDecoderByteFallback(t *testing.T) {
	tok := suiteTok(t, "llama-spm")
	// "🦙" is not in Llama 2's vocabulary: four byte tokens.
	ids := tok.Encode("🦙", false)
	var bytesIDs []int32
	for _, id := range ids {
		if tok.attrs[id]&attrByte != 0 {
			bytesIDs = append(bytesIDs, id)
		}
	}
	require.Len(t, bytesIDs, 4)
	d := tok.NewStreamDecoder()
	out := ""
	for i, id := range ids {
		chunk := d.Push(id)
		if tok.attrs[id]&attrByte != 0 && id != bytesIDs[3] {
			assert.Empty(t, chunk, "token %d: incomplete character held back", i)
		}
		out += chunk
	}
	assert.Equal(t, "🦙", out)
	assert.Empty(t, d.Flush())

	// A stream cut inside a character releases the raw bytes on Flush.
	d = tok.NewStreamDecoder()
	assert.Empty(t, d.Push(bytesIDs[0]))
	assert.Empty(t, d.Push(bytesIDs[1]))
	assert.Equal(t, "\xf0\x9f", d.Flush())
}

func TestDecodeLeadingSpaceAndControl(t *testing.T) {
	tok := suiteTok(t, "llama-spm")
	ids := tok.Encode("Hello world", true)
	bos, _ := tok.BOS()
	require.Equal(t, bos, ids[0])
	// Like llama.cpp: the first token loses its SentencePiece space; a BOS
	// first renders as nothing and takes that place.
	assert.Equal(t, "Hello world", tok.Decode(ids[1:]))
	assert.Equal(t, " Hello world", tok.Decode(ids))
	d := tok.NewStreamDecoder()
	assert.Equal(t, "Hello", d.Push(ids[1]))
	assert.Equal(t, " world", d.Push(ids[2]))

	// A continuation keeps the space: prompt + reply reads as one text.
	prompt := tok.Encode("Once upon", true)
	reply := tok.Encode(" a time", false)[1:] // "▁a", "▁time" without the prefix-space token
	c := tok.NewContinuationDecoder()
	text := ""
	for _, id := range reply {
		text += c.Push(id)
	}
	text += c.Flush()
	assert.Equal(t, tok.Decode(append(append([]int32{}, prompt[1:]...), reply...)), "Once upon"+text)
	assert.Equal(t, " a time", text)

	// Byte-level BPE keeps spaces exactly.
	g := suiteTok(t, "gpt-2")
	assert.Equal(t, " Hello", g.Decode(g.Encode(" Hello", false)))
	// Out-of-range ids render as nothing.
	assert.Equal(t, "", g.Decode([]int32{-1, int32(g.VocabSize())}))
}

func TestBOSEOSRules(t *testing.T) {
	cases := []struct {
		vocab      string
		addBOS     bool
		firstPiece string
	}{
		{"llama-spm", true, "<s>"},
		{"phi-3", true, "<s>"},
		{"llama-bpe", true, "<|begin_of_text|>"},
		{"qwen2", false, ""},
		{"gpt-2", false, ""},
		{"gemma-4", true, "<bos>"},
	}
	for _, c := range cases {
		tok := suiteTok(t, c.vocab)
		assert.Equal(t, c.addBOS, tok.AddBOS(), c.vocab)
		plain := tok.Encode("Hi", false)
		with := tok.Encode("Hi", true)
		if c.addBOS {
			require.Len(t, with, len(plain)+1, c.vocab)
			assert.Equal(t, c.firstPiece, tok.Piece(with[0]), c.vocab)
		} else {
			assert.Equal(t, plain, with, c.vocab)
		}
		assert.False(t, tok.AddEOS(), c.vocab)
	}
	// Empty text with add_special is just BOS (SentencePiece's rule).
	assert.Equal(t, []int32{1}, suiteTok(t, "llama-spm").Encode("", true))
	assert.Empty(t, suiteTok(t, "llama-spm").Encode("", false))
}

func TestStories260K(t *testing.T) {
	p, err := refdata.Stories260K()
	tok, err := LoadGGUF(refdata.Must(t, p, err))
	require.NoError(t, err)
	ids := tok.Encode("Once upon a time", true)
	assert.Equal(t, []int32{1, 403, 407, 261, 378}, ids)
	assert.Equal(t, "Once upon a time", tok.Decode(ids[1:]))
	assert.Equal(t, 512, tok.VocabSize())
	eos, ok := tok.EOS()
	require.True(t, ok)
	assert.Contains(t, tok.StopTokens(), eos)
}

// Random token sequences (byte tokens included, so characters split and
// invalid sequences occur): the stream always adds up to Decode, and holds
// back at most an incomplete character.
func TestStreamDecoderRandom(t *testing.T) {
	for _, vocab := range []string{"llama-spm", "gpt-2", "gemma-4"} {
		tok := suiteTok(t, vocab)
		var byteIDs []int32
		for id := range tok.VocabSize() {
			if tok.attrs[id]&attrByte != 0 || (tok.byteLvl && len(byteDecode(tok.pieces[id])) == 1 && tok.pieces[id][0] >= 0x80) {
				byteIDs = append(byteIDs, int32(id))
			}
		}
		require.NotEmpty(t, byteIDs, vocab)
		r := rand.New(rand.NewSource(5))
		for n := 0; n < 300; n++ {
			ids := make([]int32, 1+r.Intn(12))
			for i := range ids {
				if r.Intn(2) == 0 {
					ids[i] = byteIDs[r.Intn(len(byteIDs))]
				} else {
					ids[i] = int32(r.Intn(tok.VocabSize()))
				}
			}
			d := tok.NewStreamDecoder()
			got := ""
			for _, id := range ids {
				got += d.Push(id)
				require.LessOrEqual(t, len(d.pending), 3, "only an incomplete character is held")
			}
			got += d.Flush()
			require.Equal(t, tok.Decode(ids), got, "%s %v", vocab, ids)
		}
	}
}
