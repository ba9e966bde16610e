package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// Engine runs tasks for one loaded model.
type Engine struct {
	Tok *tokenizer.Tokenizer
	Gen Generator
	// Context is the number of tokens one sequence may hold, prompt and
	// output together: the model's context, or less to save memory.
	Context int
	// Sampling for every answer; the zero value is greedy.
	Sampling sample.Params

	b *Builder
}

// NewEngine makes an engine; contextTokens is the context budget.
func NewEngine(tok *tokenizer.Tokenizer, gen Generator, contextTokens int) (*Engine, error) {
	if contextTokens < minContext {
		return nil, fmt.Errorf("%w: a context of %d tokens is too small for the tasks (at least %d)", ErrContext, contextTokens, minContext)
	}
	b, err := NewBuilder(tok)
	if err != nil {
		return nil, err
	}
	return &Engine{Tok: tok, Gen: gen, Context: contextTokens, b: b}, nil
}

// minContext is the smallest context the tasks can work in: the prompt
// wording alone takes ~100 tokens.
const minContext = 256

// Builder is the engine's prompt builder.
func (e *Engine) Builder() *Builder { return e.b }

// Events receive a task's output as it is made. Any may be nil.
type Events struct {
	Text     func(delta string)    // answer text, in order, UTF-8 complete
	Note     func(note string)     // a note for the user (input shortened, split...)
	Progress func(done, total int) // parts of a long input summarized so far
}

func (ev Events) text(s string) {
	if ev.Text != nil && s != "" {
		ev.Text(s)
	}
}

func (ev Events) note(s string) {
	if ev.Note != nil {
		ev.Note(s)
	}
}

func (ev Events) progress(done, total int) {
	if ev.Progress != nil {
		ev.Progress(done, total)
	}
}

// Result is what a task produced.
type Result struct {
	Text string `json:"text"` // the answer, as streamed
	Stop string `json:"stop"` // why the (last) generation ended
	// PromptTokens counts the prompt tokens of every generation the task
	// ran (one for a short input; parts and the final step for a long one).
	PromptTokens int    `json:"prompt_tokens"`
	Chunks       int    `json:"chunks"` // parts the input was split into (1 when it fit)
	Note         string `json:"note,omitempty"`
	// Prompt is the last prompt the model saw (the final step of a long
	// summary).
	Prompt *Prompt `json:"-"`
	// Tokens are the generated tokens of the last generation.
	Tokens []int32 `json:"-"`
}

func (r *Result) addNote(n string) {
	if n == "" {
		return
	}
	if r.Note != "" {
		r.Note += " "
	}
	r.Note += n
}

// stream generates from p, streaming its text; the answer text is the
// decoded tokens, trimmed of the whitespace models put around answers.
func (e *Engine) stream(ctx context.Context, p *Prompt, maxTokens int, ev Events) (text string, toks []int32, stop string, err error) {
	dec := e.Tok.NewStreamDecoder()
	var b strings.Builder
	started := false
	pending := "" // trailing whitespace held back until more text follows
	emit := func(s string) {
		if !started {
			s = strings.TrimLeft(s, " \t\r\n")
			if s == "" {
				return
			}
			started = true
		}
		s = pending + s
		trimmed := strings.TrimRight(s, " \t\r\n")
		pending = s[len(trimmed):]
		b.WriteString(trimmed)
		ev.text(trimmed)
	}
	toks, stop, err = e.Gen.Generate(ctx, p.IDs, e.genOptions(maxTokens), func(id int32) bool {
		emit(dec.Push(id))
		return true
	})
	if err != nil {
		return "", nil, "", err
	}
	emit(dec.Flush())
	return b.String(), toks, stop, nil
}

func (e *Engine) genOptions(maxTokens int) GenOptions {
	return GenOptions{MaxTokens: maxTokens, Sampling: e.Sampling, Stop: e.Tok.StopTokens()}
}

// decode turns generated tokens into trimmed text (non-streamed steps).
func (e *Engine) decode(toks []int32) string {
	d := e.Tok.NewStreamDecoder()
	var b strings.Builder
	for _, id := range toks {
		b.WriteString(d.Push(id))
	}
	b.WriteString(d.Flush())
	return strings.TrimSpace(b.String())
}

// fits reports whether a prompt leaves room for maxTokens of output.
func (e *Engine) fits(p *Prompt, maxTokens int) bool { return len(p.IDs)+maxTokens <= e.Context }

// ErrContext marks requests that cannot fit the model's context even after
// splitting or dropping (the extension's "context-overflow" error code).
var ErrContext = errors.New("context overflow")
