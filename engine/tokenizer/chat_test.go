package tokenizer

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ardanlabs/jinja"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conversations: 1, 2 and 3 turns, with and without a system message;
// contents with surrounding whitespace (templates trim some) and newlines.
var conversations = map[string][]Message{
	"1":           {{"user", "Hello!"}},
	"1-system":    {{"system", "You are terse."}, {"user", "  Summarize:\nThe cat sat.  "}},
	"2":           {{"user", "Hi"}, {"assistant", "Hello! How can I help?\n"}},
	"2-system":    {{"system", "Be kind."}, {"user", "Hi"}, {"assistant", "Hello."}},
	"3":           {{"user", "What is 2+2?"}, {"assistant", "4"}, {"user", "And 3+3?"}},
	"3-system":    {{"system", "Answer with digits."}, {"user", "2+2?"}, {"assistant", " 4 "}, {"user", "3+3?\n"}},
	"3-reasoning": {{"user", "2+2?"}, {"assistant", "<think>\nadd\n</think>\n\n4"}, {"user", "3+3?"}},
}

func renderJinja(t *testing.T, tpl string, msgs []Message, gen bool, bos, eos string) (string, error) {
	return renderJinjaWith(t, tpl, msgs, gen, bos, eos, nil)
}

func renderJinjaWith(t *testing.T, tpl string, msgs []Message, gen bool, bos, eos string, extra map[string]any) (string, error) {
	t.Helper()
	tmpl, err := jinja.Compile(tpl)
	require.NoError(t, err)
	list := make([]any, len(msgs))
	for i, m := range msgs {
		list[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	vars := map[string]any{"messages": list, "add_generation_prompt": gen, "bos_token": bos, "eos_token": eos}
	for k, v := range extra {
		vars[k] = v
	}
	return tmpl.Render(vars)
}

func configTemplate(t *testing.T, vocab string) string {
	var c struct {
		ChatTemplate string `json:"chat_template"`
	}
	require.NoError(t, json.Unmarshal(refdata.Gunzip(t, filepath.Join("testdata", vocab, "tokenizer_config.json.gz")), &c))
	require.NotEmpty(t, c.ChatTemplate)
	return c.ChatTemplate
}

func TestChatTemplatesMatchJinja(t *testing.T) {
	dir, err := refdata.TokenizerTestsDir()
	dir = refdata.Must(t, dir, err)
	// withTemplate loads a llama.cpp test vocabulary with a published template.
	withTemplate := func(vocab, tpl string) *Tokenizer {
		tok, err := LoadGGUF(filepath.Join(dir, vocab))
		require.NoError(t, err)
		tok.chatTemplate, err = ReferenceTemplate(tpl)
		require.NoError(t, err)
		return tok
	}
	llama3 := withTemplate("ggml-vocab-llama-bpe.gguf", "llama3")
	llama32 := withTemplate("ggml-vocab-llama-bpe.gguf", "llama3.2")
	// Mistral 7B / Mixtral 8x7B use a Llama-2-style SentencePiece vocabulary
	// with <s> and </s>, as llama-spm has.
	mixtral := withTemplate("ggml-vocab-llama-spm.gguf", "mixtral")
	mixtralLegacy := withTemplate("ggml-vocab-llama-spm.gguf", "mixtral-legacy")
	defer func(f func() time.Time) { Now = f }(Now)
	Now = func() time.Time { return time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC) }
	extra := map[string]any{"date_string": "05 Mar 2026"} // strftime_now("%d %b %Y") on that day

	cases := []struct {
		name, family string
		tok          *Tokenizer
		noSystem     bool // the Jinja template rejects system messages
		noReasoning  bool
		userTurn     string // what opens a user turn (noSystem)
	}{
		{"gemma3", TemplateGemma, mustHF(t, "gemma3"), false, true, ""},
		{"gemma2", TemplateGemma, mustHF(t, "gemma2"), true, true, "<start_of_turn>user\n"},
		{"qwen3", TemplateQwen3, mustHF(t, "qwen3"), false, false, ""},
		{"llama3", TemplateLlama3, llama3, false, true, ""},
		{"llama3.2", TemplateLlama31, llama32, false, true, ""},
		{"mixtral", TemplateMistral, mixtral, false, true, ""},
		{"mixtral-legacy", TemplateMistralLegacy, mixtralLegacy, true, true, "[INST] "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fam, err := c.tok.TemplateName()
			require.NoError(t, err)
			require.Equal(t, c.family, fam)
			bos, eos := "", ""
			if id, ok := c.tok.BOS(); ok {
				bos = c.tok.Piece(id)
			}
			if id, ok := c.tok.EOS(); ok {
				eos = c.tok.Piece(id)
			}
			for name, msgs := range conversations {
				if c.noReasoning && name == "3-reasoning" {
					continue
				}
				for _, gen := range []bool{false, true} {
					got, err := c.tok.Chat(msgs, gen)
					require.NoError(t, err)
					want, jerr := renderJinjaWith(t, c.tok.chatTemplate, msgs, gen, bos, eos, extra)
					if c.noSystem && msgs[0].Role == "system" {
						// Gemma 2's and the legacy Mistral templates raise on a
						// system message; we fold it into the first user turn as
						// Gemma 3's and the current Mistral template do.
						require.Error(t, jerr)
						require.Contains(t, got, c.userTurn+msgs[0].Content+"\n\n")
						continue
					}
					require.NoError(t, jerr)
					assert.Equal(t, want, got, "%s conversation %s, add_generation_prompt=%v", c.name, name, gen)
				}
			}
		})
	}
}

var hfTokCache sync.Map

// mustHF builds (once) the tokenizer of a committed HF tokenizer.json.
func mustHF(t testing.TB, vocab string) *Tokenizer {
	if v, ok := hfTokCache.Load(vocab); ok {
		return v.(*Tokenizer)
	}
	tok, err := FromMetadata(hfMeta(t, vocab))
	require.NoError(t, err)
	hfTokCache.Store(vocab, tok)
	return tok
}

func TestChatTokensAndStops(t *testing.T) {
	g := mustHF(t, "gemma3")
	ids, err := g.ChatTokens([]Message{{"user", "Hi"}}, true)
	require.NoError(t, err)
	sot, _ := g.ID("<start_of_turn>")
	eot, _ := g.ID("<end_of_turn>")
	bos, _ := g.BOS()
	require.Equal(t, bos, ids[0])
	require.Equal(t, sot, ids[1])
	require.Contains(t, ids, eot)
	require.Equal(t, 1, count(ids, bos), "the template writes BOS once")
	assert.True(t, g.IsStop(eot))
	e, _ := g.EOS()
	assert.Equal(t, "<end_of_turn>", g.Piece(e), "Gemma 3's tokenizer_config names <end_of_turn> as EOS")
	assert.Contains(t, g.StopTokens(), eot)
	eosTok, _ := g.ID("<eos>")
	assert.True(t, g.IsStop(eosTok), "<eos> also ends generation (llama.cpp's list; Gemma's generation_config)")

	// The user's text never turns into control tokens, the template's does.
	user := g.Encode("<start_of_turn>", false)
	assert.NotContains(t, user, sot)
	assert.Equal(t, []int32{sot}, g.EncodeSpecial("<start_of_turn>", false))

	q := mustHF(t, "qwen3")
	imEnd, _ := q.ID("<|im_end|>")
	endText, _ := q.ID("<|endoftext|>")
	assert.Contains(t, q.StopTokens(), imEnd)
	assert.Contains(t, q.StopTokens(), endText)
	_, hasBOS := q.BOS()
	assert.False(t, hasBOS)
	assert.False(t, q.AddBOS())

	_, err = g.Chat([]Message{{"assistant", "x"}}, true)
	assert.Error(t, err, "Gemma turns must start with the user")
	_, err = g.Chat(nil, true)
	assert.Error(t, err)
}

func count(ids []int32, id int32) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// Mistral's layouts spelled out (the Jinja comparison above checks every
// conversation), and the conversations its template rejects.
func TestChatMistral(t *testing.T) {
	dir, err := refdata.TokenizerTestsDir()
	dir = refdata.Must(t, dir, err)
	tok, err := LoadGGUF(filepath.Join(dir, "ggml-vocab-llama-spm.gguf"))
	require.NoError(t, err)
	for _, tt := range []struct {
		tpl, want string
	}{
		{"mixtral", "<s> [INST] Be kind.\n\nHi [/INST] Hello.</s> [INST] And? [/INST]"},
		{"mixtral-legacy", "<s>[INST] Be kind.\n\nHi [/INST]Hello.</s>[INST] And? [/INST]"},
	} {
		tok.chatTemplate, err = ReferenceTemplate(tt.tpl)
		require.NoError(t, err)
		msgs := []Message{{"system", "Be kind."}, {"user", "Hi"}, {"assistant", "Hello."}, {"user", "And?"}}
		got, err := tok.Chat(msgs, true)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.tpl)
		ids, err := tok.ChatTokens(msgs, true)
		require.NoError(t, err)
		bos, _ := tok.BOS()
		eos, _ := tok.EOS()
		assert.Equal(t, 1, count(ids, bos), "%s: BOS once", tt.tpl)
		assert.Equal(t, 1, count(ids, eos), "%s: EOS after the assistant turn", tt.tpl)

		for _, bad := range [][]Message{
			{{"assistant", "x"}},
			{{"user", "a"}, {"user", "b"}},
			{{"user", "a"}, {"tool", "b"}},
			{{"user", "a"}, {"assistant", "b"}, {"system", "c"}},
		} {
			_, err := tok.Chat(bad, true)
			assert.Error(t, err, "%s: %v", tt.tpl, bad)
			_, jerr := renderJinja(t, tok.chatTemplate, bad, true, "<s>", "</s>")
			assert.Error(t, jerr, "%s: the Jinja template rejects %v too", tt.tpl, bad)
		}
	}
	_, err = ReferenceTemplate("nope")
	assert.ErrorContains(t, err, "mixtral")
}
