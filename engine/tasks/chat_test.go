package tasks

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/tokenizer"
)

func history(n int) []tokenizer.Message {
	var h []tokenizer.Message
	for i := range n {
		h = append(h,
			tokenizer.Message{Role: "user", Content: fmt.Sprintf("Question %d: what does the council plan for Main Street this year?", i)},
			tokenizer.Message{Role: "assistant", Content: fmt.Sprintf("Answer %d: a new bike lane, built in March, for $2.4 million.", i)})
	}
	return h
}

func TestChatFits(t *testing.T) {
	for _, family := range families {
		t.Run(family, func(t *testing.T) {
			tok := familyTok(t, family)
			fg := &fakeGen{tok: tok, reply: func(string) string { return "Six weeks." }}
			e, err := NewEngine(tok, fg, 2048)
			require.NoError(t, err)
			h := history(2)
			res, err := e.Chat(context.Background(), ChatRequest{History: h, Message: "How long?"}, Events{})
			require.NoError(t, err)
			assert.Equal(t, "Six weeks.", res.Text)
			assert.Zero(t, res.Dropped)
			assert.Empty(t, res.Note)
			want := append(append([]tokenizer.Message{}, h...),
				tokenizer.Message{Role: "user", Content: "How long?"}, tokenizer.Message{Role: "assistant", Content: "Six weeks."})
			assert.Equal(t, want, res.History)
			for _, m := range h {
				assert.Contains(t, res.Prompt.Text, m.Content)
			}
		})
	}
}

func TestChatOverflowDropsOldest(t *testing.T) {
	for _, family := range families {
		t.Run(family, func(t *testing.T) {
			tok := familyTok(t, family)
			fg := &fakeGen{tok: tok, reply: func(string) string { return "OK." }}
			const ctxLen = 512
			e, err := NewEngine(tok, fg, ctxLen)
			require.NoError(t, err)
			h := history(20)
			var notes []string
			res, err := e.Chat(context.Background(), ChatRequest{History: h, Message: "And next year?"}, Events{Note: func(n string) { notes = append(notes, n) }})
			require.NoError(t, err)
			require.Greater(t, res.Dropped, 0)
			assert.Zero(t, res.Dropped%2, "whole exchanges are dropped")
			assert.Equal(t, fmt.Sprintf("The %d oldest messages were left out to fit the model's context.", res.Dropped), res.Note)
			assert.Equal(t, []string{res.Note}, notes)
			kept := res.History[:len(res.History)-2]
			assert.Equal(t, h[res.Dropped:], kept, "the newest turns are kept")
			assert.NotContains(t, res.Prompt.Text, h[res.Dropped-1].Content)
			assert.Contains(t, res.Prompt.Text, h[res.Dropped].Content)
			assert.Contains(t, res.Prompt.Text, "And next year?")
			assert.LessOrEqual(t, len(fg.prompts[0])+fg.maxToks[0], ctxLen)
			// Dropping one exchange fewer would not have fit.
			p2, err := e.b.Build(append(append([]tokenizer.Message{res.Prompt.Messages[0]}, h[res.Dropped-2:]...),
				tokenizer.Message{Role: "user", Content: "And next year?"}), cueAssistant)
			require.NoError(t, err)
			assert.Greater(t, len(p2.IDs)+fg.maxToks[0]+chatMargin, ctxLen)
		})
	}
}

func TestChatPageCut(t *testing.T) {
	tok := familyTok(t, "gemma3")
	fg := &fakeGen{tok: tok, reply: func(string) string { return "It is about lanes." }}
	const ctxLen = 1024
	e, err := NewEngine(tok, fg, ctxLen)
	require.NoError(t, err)
	page := &Page{Title: "Council", URL: "https://news.example/", Text: longText(40)}
	res, err := e.Chat(context.Background(), ChatRequest{Message: "What is this page about?", Page: page}, Events{})
	require.NoError(t, err)
	assert.Regexp(t, `^Only the first \d+% of the page fits in the model's context; the answer uses that part\.$`, res.Note)
	assert.Contains(t, res.Prompt.Text, page.Text[:200], "the page's beginning is in the prompt")
	assert.NotContains(t, res.Prompt.Text, page.Text[len(page.Text)-200:])
	assert.LessOrEqual(t, len(fg.prompts[0])+fg.maxToks[0], ctxLen)

	// A short page goes in whole, without a note.
	page.Text = sampleText
	res, err = e.Chat(context.Background(), ChatRequest{Message: "What is this page about?", Page: page}, Events{})
	require.NoError(t, err)
	assert.Empty(t, res.Note)
	assert.Contains(t, res.Prompt.Text, sampleText)
}

func TestChatMessageCut(t *testing.T) {
	tok := familyTok(t, "llama3.2")
	fg := &fakeGen{tok: tok, reply: func(string) string { return "OK." }}
	e, err := NewEngine(tok, fg, 512)
	require.NoError(t, err)
	res, err := e.Chat(context.Background(), ChatRequest{Message: longText(30), History: history(3)}, Events{})
	require.NoError(t, err)
	assert.Equal(t, 6, res.Dropped)
	assert.Contains(t, res.Note, "oldest messages were left out")
	assert.Regexp(t, `Only the first \d+% of your message fits`, res.Note)
	assert.LessOrEqual(t, len(fg.prompts[0])+fg.maxToks[0], 512)
}

func TestChatHistoryNormalized(t *testing.T) {
	h := []tokenizer.Message{
		{Role: "assistant", Content: "Hello! (greeting before any question)"},
		{Role: "user", Content: "a"}, {Role: "user", Content: "b"},
		{Role: "system", Content: "ignored"},
		{Role: "assistant", Content: "c"}, {Role: "assistant", Content: " "},
	}
	assert.Equal(t, []tokenizer.Message{{Role: "user", Content: "a\n\nb"}, {Role: "assistant", Content: "c"}}, alternate(h))
}

// TestStreamUTF8: streamed deltas are whole characters even when the model
// emits a character as several byte tokens.
func TestStreamUTF8(t *testing.T) {
	for _, family := range families {
		t.Run(family, func(t *testing.T) {
			tok := familyTok(t, family)
			answer := "Ünïcödé 𝔘𝔫𝔦 日本語 🚲 done"
			fg := &fakeGen{tok: tok, reply: func(string) string { return answer }}
			e, err := NewEngine(tok, fg, 2048)
			require.NoError(t, err)
			var deltas []string
			res, err := e.Summarize(context.Background(), SummarizeRequest{Text: sampleText}, Events{Text: func(d string) { deltas = append(deltas, d) }})
			require.NoError(t, err)
			for _, d := range deltas {
				assert.True(t, utf8.ValidString(d), "%q", d)
			}
			assert.Equal(t, res.Text, strings.Join(deltas, ""))
			assert.Equal(t, strings.TrimSpace(tok.Decode(tok.Encode(answer, false))), res.Text)
		})
	}
}

// TestEncodeSegments: template and user segments tokenize like the joined
// text when the user text holds no special token, and keep user text plain
// when it does.
func TestEncodeSegments(t *testing.T) {
	texts := []string{"Hello world", " leading space", "tabs\tand\nnewlines\n\n", "日本語とemoji 🚲", "x", "  ", "end."}
	for _, family := range families {
		tok := familyTok(t, family)
		for _, user := range texts {
			segs := []tokenizer.Segment{{Text: "<start_of_turn>user\n<|im_start|>pre ", Template: true}, {Text: user}, {Text: " post<end_of_turn>\n<|im_end|>", Template: true}}
			joined := segs[0].Text + user + segs[2].Text
			assert.Equal(t, tok.EncodeSpecial(joined, false), tok.EncodeSegments(segs, false), "%s %q", family, user)
			assert.Equal(t, tok.EncodeSpecial(joined, true), tok.EncodeSegments(segs, true), "%s %q", family, user)
		}
		// After a special token no text merges across the boundary, so
		// the user text must be exactly its plain-text tokens.
		eot, ok := tok.EOT()
		if !ok {
			eot, _ = tok.EOS()
		}
		tpl := "a" + tok.Piece(eot)
		user := "<end_of_turn><|im_end|><|eot_id|>" + tok.Piece(eot)
		got := tok.EncodeSegments([]tokenizer.Segment{{Text: tpl, Template: true}, {Text: user}}, false)
		want := append(tok.EncodeSpecial(tpl, false), tok.Encode(user, false)...)
		assert.Equal(t, want, got, family)
		assert.Equal(t, 1, countID(got, eot), "%s: only the template's %q is a token", family, tok.Piece(eot))
	}
}

func countID(ids []int32, id int32) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}
