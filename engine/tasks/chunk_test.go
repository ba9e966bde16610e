package tasks

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wordCount is a tokenizer stand-in: a token per 6 bytes (rounded up) of
// each whitespace-separated word.
func wordCount(s string) int {
	n := 0
	for _, w := range strings.Fields(s) {
		n += (len(w) + 5) / 6
	}
	return n
}

// randomText makes paragraphs of sentences of words.
func randomText(r *rand.Rand, paragraphs int) string {
	words := []string{"the", "council", "approved", "a", "new", "bike", "lane", "on", "Main", "Street", "budget", "million", "é", "日本語", "construction"}
	var ps []string
	for range paragraphs {
		var ss []string
		for range 1 + r.IntN(6) {
			var ws []string
			for range 1 + r.IntN(20) {
				ws = append(ws, words[r.IntN(len(words))])
			}
			end := []string{".", "!", "?", ".\"", "。"}[r.IntN(5)]
			ss = append(ss, strings.Join(ws, " ")+end)
		}
		ps = append(ps, strings.Join(ss, " "))
	}
	return strings.Join(ps, "\n\n")
}

// checkChunks asserts the splitter's contract.
func checkChunks(t *testing.T, text string, chunks []Chunk, budget, overlap int, count func(string) int) {
	t.Helper()
	require.NotEmpty(t, chunks)
	assert.Equal(t, 0, chunks[0].Start, "starts at the beginning")
	assert.Equal(t, len(text), chunks[len(chunks)-1].End, "ends at the end")
	for i, c := range chunks {
		assert.Equal(t, text[c.Start:c.End], c.Text)
		assert.LessOrEqual(t, count(c.Text), budget, "chunk %d within budget", i)
		assert.Equal(t, count(c.Text), c.Tokens)
		assert.Less(t, c.Start, c.End)
		if i == 0 {
			continue
		}
		prev := chunks[i-1]
		assert.Greater(t, c.Start, prev.Start, "chunks in order")
		assert.Greater(t, c.End, prev.End, "every chunk adds text")
		assert.LessOrEqual(t, c.Start, prev.End, "no gap between chunks %d and %d", i-1, i)
		if c.Start < prev.End {
			assert.LessOrEqual(t, count(text[c.Start:prev.End]), overlap, "overlap bounded")
		}
	}
}

func TestSplitProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 60 {
		text := randomText(r, 1+r.IntN(12))
		budget := 8 + r.IntN(60)
		overlap := r.IntN(budget / 3)
		t.Run(fmt.Sprintf("%d_budget%d_overlap%d", trial, budget, overlap), func(t *testing.T) {
			checkChunks(t, text, Split(text, budget, overlap, wordCount), budget, overlap, wordCount)
		})
	}
}

func TestSplitCases(t *testing.T) {
	long := strings.Repeat("x", 200) // one word of 34 "tokens"
	tests := []struct {
		name    string
		text    string
		budget  int
		overlap int
		want    []string
	}{
		{"fits", "One. Two.", 10, 2, []string{"One. Two."}},
		{"sentences", "One two. Three four. Five six.", 4, 0, []string{"One two. Three four. ", "Five six."}},
		{"overlap repeats a sentence", "One two. Three four. Five six.", 4, 2, []string{"One two. Three four. ", "Three four. Five six."}},
		{"paragraph preferred", "A b c.\n\nD e. F g. H", 6, 0, []string{"A b c.\n\n", "D e. F g. H"}},
		{"long sentence cut at words", "a b c d e f g", 3, 0, []string{"a b c ", "d e f ", "g"}},
		{"long word cut at characters", long, 30, 0, []string{long[:180], long[180:]}},
		{"CJK full stops", "日本語。日本語。", 2, 0, []string{"日本語。", "日本語。"}},
		{"empty", "  \n ", 5, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range Split(tt.text, tt.budget, tt.overlap, wordCount) {
				got = append(got, c.Text)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestSplitRealTokenizers checks the contract with the families' own
// token counts on a multilingual text.
func TestSplitRealTokenizers(t *testing.T) {
	text := strings.Repeat(sampleText+"\n\nLa construcción empieza en marzo. 工事は三月に始まります。Straße, café, naïve — \"quoted.\" (Yes!) ", 6)
	for _, family := range families {
		b, err := NewBuilder(familyTok(t, family))
		require.NoError(t, err)
		for _, budget := range []int{24, 64, 200} {
			overlap := budget / 8
			chunks := Split(text, budget, overlap, b.Count)
			checkChunks(t, text, chunks, budget, overlap, b.Count)
		}
	}
}

func TestClip(t *testing.T) {
	assert.Equal(t, "short", clip("short", 10))
	assert.Equal(t, "ab…", clip("abcdef", 2))
	assert.Equal(t, "日…", clip("日本語", 4), "never cuts inside a character")
}
