package tasks

import (
	"context"
	"fmt"
	"strings"

	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// RewriteRequest asks for a rewrite (or grammar fix) of a selection.
type RewriteRequest struct {
	Text          string
	InputLanguage string // the page's language (BCP 47), the default output language
	Options       RewriteOptions
}

// RewritePrompt builds the prompt that rewrites text (part of parts when
// parts > 1).
func (e *Engine) RewritePrompt(o RewriteOptions, inputLang, text string, part, parts int) (*Prompt, error) {
	return e.b.Build([]tokenizer.Message{
		{Role: "system", Content: systemAssistant},
		{Role: "user", Content: rewriteRequest(o, inputLang, text, part, parts)},
	}, cueRewrite)
}

// rewriteTokens is the output budget for rewriting n tokens of text.
func rewriteTokens(o RewriteOptions, n int) int {
	switch {
	case o.Mode == ModeFixGrammar:
		return n + n/4 + 32
	case o.Length == LengthShorter:
		return n + 32 // half is asked; never cut a model that keeps more
	case o.Length == LengthLonger:
		return 2*n + 64
	}
	return n + n/2 + 32
}

// Rewrite rewrites req.Text, streaming the result. A selection too long
// for the context is rewritten part by part (cut at paragraphs or
// sentences, without overlap, streamed in order) and the parts are joined;
// the result's Note says so.
func (e *Engine) Rewrite(ctx context.Context, req RewriteRequest, ev Events) (*Result, error) {
	o, err := req.Options.normalize()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Text) == "" {
		return nil, fmt.Errorf("there is no text to rewrite")
	}
	res := &Result{Chunks: 1}
	n := e.b.Count(req.Text)
	p, err := e.RewritePrompt(o, req.InputLanguage, req.Text, 1, 1)
	if err != nil {
		return nil, err
	}
	if maxOut := rewriteTokens(o, n); e.fits(p, maxOut) {
		res.Prompt, res.PromptTokens = p, len(p.IDs)
		res.Text, res.Tokens, res.Stop, err = e.stream(ctx, p, maxOut, ev)
		if err != nil {
			return nil, err
		}
		return res, nil
	}

	probe, err := e.RewritePrompt(o, req.InputLanguage, "x", 99, 99)
	if err != nil {
		return nil, err
	}
	// Largest part b with prompt + b + rewriteTokens(b) ≤ context.
	free := e.Context - len(probe.IDs) - 8
	budget := 0
	for lo, hi := 1, free; lo <= hi; {
		mid := (lo + hi) / 2
		if mid+rewriteTokens(o, mid) <= free {
			budget, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	if budget < 16 {
		return nil, fmt.Errorf("%w: the context of %d tokens is too small to rewrite this text", ErrContext, e.Context)
	}
	chunks := Split(req.Text, budget, 0, e.b.Count)
	res.Chunks = len(chunks)
	res.addNote(noteRewriteParts(len(chunks)))
	ev.note(res.Note)
	var out strings.Builder
	for i, c := range chunks {
		p, err := e.RewritePrompt(o, req.InputLanguage, c.Text, i+1, len(chunks))
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteString("\n\n")
			ev.text("\n\n")
		}
		text, toks, stop, err := e.stream(ctx, p, rewriteTokens(o, c.Tokens), ev)
		if err != nil {
			return nil, err
		}
		out.WriteString(text)
		res.Prompt, res.Tokens, res.Stop = p, toks, stop
		res.PromptTokens += len(p.IDs)
	}
	res.Text = out.String()
	return res, nil
}
