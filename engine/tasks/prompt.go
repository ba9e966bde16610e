package tasks

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// FamilyPlain names models without a chat template: they get a plain-text
// prompt.
const FamilyPlain = "plain"

// Prompt is a built prompt: the conversation, its rendering and its ids.
type Prompt struct {
	Family   string              // chat template family (tokenizer.Template*) or FamilyPlain
	Messages []tokenizer.Message // the conversation before the template
	Text     string              // the rendered prompt, as the model reads it
	IDs      []int32
}

// Builder renders messages for one model.
type Builder struct {
	Tok    *tokenizer.Tokenizer
	Family string
}

// NewBuilder picks the chat template family of the tokenizer; models
// without a recognized template get plain-text prompts.
func NewBuilder(tok *tokenizer.Tokenizer) (*Builder, error) {
	name, err := tok.TemplateName()
	switch {
	case errors.Is(err, tokenizer.ErrNoTemplate):
		name = FamilyPlain
	case err != nil:
		return nil, err
	}
	return &Builder{Tok: tok, Family: name}, nil
}

// Sentinels stand in for message contents while the template renders, so
// the contents can be tokenized as user text afterwards. They are private
// use characters, removed from contents first so they cannot collide.
const (
	sentinelOpen  = "\uE000"
	sentinelClose = "\uE001"
)

// qwen3NoThink is what Qwen3's template writes after the assistant header
// with enable_thinking=false: an empty think block, so the model answers
// directly.
const qwen3NoThink = "<think>\n\n</think>\n\n"

// Build renders msgs (the last one a user turn) with the model's chat
// template and the assistant's turn header, or as plain text ending with
// cue. Contents are trimmed, as the templates do.
func (b *Builder) Build(msgs []tokenizer.Message, cue string) (*Prompt, error) {
	clean := make([]tokenizer.Message, len(msgs))
	for i, m := range msgs {
		c := strings.NewReplacer(sentinelOpen, "", sentinelClose, "").Replace(m.Content)
		clean[i] = tokenizer.Message{Role: m.Role, Content: strings.TrimSpace(c)}
	}
	if b.Family == FamilyPlain {
		return b.plain(clean, cue), nil
	}
	stand := make([]tokenizer.Message, len(clean))
	for i, m := range clean {
		stand[i] = tokenizer.Message{Role: m.Role, Content: sentinelOpen + strconv.Itoa(i) + sentinelClose}
	}
	rendered, err := b.Tok.Chat(stand, true)
	if err != nil {
		return nil, err
	}
	if b.Family == tokenizer.TemplateQwen3 {
		rendered += qwen3NoThink
	}
	segs, err := splitSentinels(rendered, clean)
	if err != nil {
		return nil, err
	}
	var text strings.Builder
	for _, s := range segs {
		text.WriteString(s.Text)
	}
	// The template writes BOS itself where the model wants one.
	return &Prompt{Family: b.Family, Messages: clean, Text: text.String(), IDs: b.Tok.EncodeSegments(segs, false)}, nil
}

// splitSentinels cuts a rendering into template segments and the message
// contents the sentinels stand for.
func splitSentinels(rendered string, msgs []tokenizer.Message) ([]tokenizer.Segment, error) {
	var segs []tokenizer.Segment
	seen := make([]bool, len(msgs))
	for {
		i := strings.Index(rendered, sentinelOpen)
		if i < 0 {
			break
		}
		j := strings.Index(rendered[i:], sentinelClose)
		n, err := strconv.Atoi(rendered[i+len(sentinelOpen) : i+max(j, 0)])
		if j < 0 || err != nil || n < 0 || n >= len(msgs) || seen[n] {
			return nil, fmt.Errorf("chat template mangled message contents")
		}
		seen[n] = true
		segs = append(segs, tokenizer.Segment{Text: rendered[:i], Template: true}, tokenizer.Segment{Text: msgs[n].Content})
		rendered = rendered[i+j+len(sentinelClose):]
	}
	for n, ok := range seen {
		if !ok && msgs[n].Content != "" {
			return nil, fmt.Errorf("chat template dropped message %d (%s)", n, msgs[n].Role)
		}
	}
	return append(segs, tokenizer.Segment{Text: rendered, Template: true}), nil
}

// plain lays a conversation out as text for models without a chat
// template: the system text, then the turns, then the cue. A single user
// turn is written without a role label.
func (b *Builder) plain(msgs []tokenizer.Message, cue string) *Prompt {
	var parts []string
	turns := msgs
	if len(turns) > 0 && turns[0].Role == "system" {
		parts = append(parts, turns[0].Content)
		turns = turns[1:]
	}
	if len(turns) == 1 && turns[0].Role == "user" {
		parts = append(parts, turns[0].Content)
	} else {
		for _, m := range turns {
			label := "User: "
			if m.Role == "assistant" {
				label = "Assistant: "
			}
			parts = append(parts, label+m.Content)
		}
	}
	parts = append(parts, cue)
	text := strings.Join(parts, "\n\n")
	ids := b.Tok.EncodeSegments([]tokenizer.Segment{{Text: text}}, true)
	return &Prompt{Family: FamilyPlain, Messages: msgs, Text: text, IDs: ids}
}

// Count is the number of tokens text takes as user text.
func (b *Builder) Count(text string) int { return len(b.Tok.Encode(text, false)) }
