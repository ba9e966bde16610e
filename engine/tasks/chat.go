package tasks

import (
	"context"
	"fmt"
	"strings"

	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// Page is the page the user reads, as the content script extracted it.
type Page struct {
	Title    string `json:"title,omitempty"`
	URL      string `json:"url,omitempty"`
	Text     string `json:"text"`
	Language string `json:"language,omitempty"`
}

// ChatRequest is one user message in a conversation.
type ChatRequest struct {
	History   []tokenizer.Message // earlier turns, oldest first: user, assistant, user, ...
	Message   string
	Page      *Page  // set when "use this page as context" is on
	Language  string // answer language; empty = the user's
	MaxTokens int    // answer budget; 0 = defaultChatTokens
}

// ChatResult is a chat answer and the conversation to keep.
type ChatResult struct {
	*Result
	// History is the conversation after this turn: the turns that were
	// kept, the user's message and the answer.
	History []tokenizer.Message `json:"-"`
	Dropped int                 `json:"dropped"` // earliest turns left out to fit the context
}

const defaultChatTokens = 512

// chatMargin absorbs the difference between counting pieces of text alone
// and in the prompt.
const chatMargin = 8

// alternate keeps user/assistant turns in the strict alternation the
// templates want (starting with user): other roles are dropped and
// consecutive turns of one role are joined.
func alternate(h []tokenizer.Message) []tokenizer.Message {
	var out []tokenizer.Message
	for _, m := range h {
		if (m.Role != "user" && m.Role != "assistant") || strings.TrimSpace(m.Content) == "" {
			continue
		}
		if len(out) == 0 && m.Role != "user" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Role == m.Role {
			out[n-1].Content += "\n\n" + m.Content
			continue
		}
		out = append(out, m)
	}
	return out
}

// ChatPrompt builds the prompt for req within the context, returning the
// history it kept, how many turns it dropped and notes for the user.
func (e *Engine) ChatPrompt(req ChatRequest, maxOut int) (p *Prompt, kept []tokenizer.Message, dropped int, notes []string, err error) {
	budget := e.Context - maxOut - chatMargin
	history := alternate(req.History)
	if n := len(history); n > 0 && history[n-1].Role == "user" {
		// The new message follows a user turn that got no answer.
		req.Message = history[n-1].Content + "\n\n" + req.Message
		history = history[:n-1]
	}
	message := req.Message
	pageText := ""
	pagePct, msgPct := 100, 100 // shares of the page and the message kept
	if req.Page != nil {
		// The page may take half the room; the conversation the rest.
		pageText, pagePct, _ = e.cutTo(req.Page.Text, budget/2)
	}
	build := func() (*Prompt, error) {
		msgs := []tokenizer.Message{{Role: "system", Content: chatSystem(req.Page, pageText, req.Language)}}
		msgs = append(msgs, history...)
		msgs = append(msgs, tokenizer.Message{Role: "user", Content: message})
		return e.b.Build(msgs, cueAssistant)
	}
	if p, err = build(); err != nil {
		return nil, nil, 0, nil, err
	}
	// Drop the oldest exchanges (user + answer) first.
	for len(p.IDs) > budget && len(history) > 0 {
		k := min(2, len(history))
		history, dropped = history[k:], dropped+k
		if p, err = build(); err != nil {
			return nil, nil, 0, nil, err
		}
	}
	// Then shorten the page, then the message itself.
	if len(p.IDs) > budget && req.Page != nil {
		room := budget - (len(p.IDs) - e.b.Count(pageText))
		pageText, _, _ = e.cutTo(pageText, max(room, 0))
		pagePct = percentOf(pageText, req.Page.Text)
		if p, err = build(); err != nil {
			return nil, nil, 0, nil, err
		}
	}
	if len(p.IDs) > budget {
		room := budget - (len(p.IDs) - e.b.Count(message))
		cut, pct, ok := e.cutTo(message, max(room, 0))
		if !ok || cut == "" {
			return nil, nil, 0, nil, fmt.Errorf("%w: the context of %d tokens is too small for this conversation", ErrContext, e.Context)
		}
		message, msgPct = cut, pct
		if p, err = build(); err != nil {
			return nil, nil, 0, nil, err
		}
	}
	if len(p.IDs) > e.Context-maxOut {
		return nil, nil, 0, nil, fmt.Errorf("%w: the context of %d tokens is too small for this conversation", ErrContext, e.Context)
	}
	if dropped > 0 {
		notes = append(notes, noteChatDropped(dropped))
	}
	if pagePct < 100 {
		notes = append(notes, notePageCut(pagePct))
	}
	if msgPct < 100 {
		notes = append(notes, noteMessageCut(msgPct))
	}
	return p, history, dropped, notes, nil
}

// cutTo returns the start of text that fits in budget tokens, cut at a
// paragraph or sentence, and the share of the text kept in percent; ok
// is false when the whole text fits.
func (e *Engine) cutTo(text string, budget int) (string, int, bool) {
	if e.b.Count(text) <= budget {
		return text, 100, false
	}
	if budget < 1 {
		return "", 0, true
	}
	chunks := Split(text, budget, 0, e.b.Count)
	if len(chunks) == 0 {
		return "", 0, true
	}
	return chunks[0].Text, percentOf(chunks[0].Text, text), true
}

func percentOf(part, whole string) int {
	if whole == "" {
		return 100
	}
	return 100 * len(part) / len(whole)
}

// Chat answers req.Message, streaming the answer. When the conversation
// does not fit the context, the oldest turns are dropped first, then the
// page is shortened, then the message; the result's Note says what was
// left out.
func (e *Engine) Chat(ctx context.Context, req ChatRequest, ev Events) (*ChatResult, error) {
	if strings.TrimSpace(req.Message) == "" {
		return nil, fmt.Errorf("the message is empty")
	}
	maxOut := req.MaxTokens
	if maxOut <= 0 {
		maxOut = defaultChatTokens
	}
	maxOut = min(maxOut, e.Context/4)
	p, kept, dropped, notes, err := e.ChatPrompt(req, maxOut)
	if err != nil {
		return nil, err
	}
	res := &ChatResult{Result: &Result{Chunks: 1, Prompt: p, PromptTokens: len(p.IDs)}, Dropped: dropped}
	for _, n := range notes {
		res.addNote(n)
	}
	if res.Note != "" {
		ev.note(res.Note)
	}
	res.Text, res.Tokens, res.Stop, err = e.stream(ctx, p, maxOut, ev)
	if err != nil {
		return nil, err
	}
	last := p.Messages[len(p.Messages)-1]
	res.History = append(append(kept, last), tokenizer.Message{Role: "assistant", Content: res.Text})
	return res, nil
}
