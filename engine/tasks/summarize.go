package tasks

import (
	"context"
	"fmt"
	"strings"

	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// SummarizeRequest asks for a summary of a page or a selection.
type SummarizeRequest struct {
	Text          string
	Title         string // page title, when known
	InputLanguage string // the page's language (BCP 47), the default output language
	Options       SummarizeOptions
	MaxTokens     int // output budget; 0 = by type and length
}

// SummaryPrompt builds the prompt of a summary of text. parts > 0 marks
// the reduce step over the summaries of that many parts.
func (e *Engine) SummaryPrompt(o SummarizeOptions, title, inputLang, text string, parts int) (*Prompt, error) {
	return e.b.Build([]tokenizer.Message{
		{Role: "system", Content: systemAssistant},
		{Role: "user", Content: summaryRequest(o, title, inputLang, text, parts)},
	}, cueSummary)
}

func (e *Engine) partPrompt(part, parts int, req SummarizeRequest, text string) (*Prompt, error) {
	return e.b.Build([]tokenizer.Message{
		{Role: "system", Content: systemAssistant},
		{Role: "user", Content: partRequest(part, parts, req.Title, req.Options.OutputLanguage, req.InputLanguage, text)},
	}, cueSummary)
}

// maxLevels bounds the map-reduce rounds; each round shrinks the text at
// least threefold (chunk budget vs part summary budget), so a page would
// need to be far beyond any browser page to reach it.
const maxLevels = 8

// Summarize summarizes req.Text, streaming the summary. A text that does
// not fit the context is summarized in parts (map-reduce): the parts'
// summaries are made as one batch, then summarized together, recursively
// while they are still too long; the result's Note says so.
func (e *Engine) Summarize(ctx context.Context, req SummarizeRequest, ev Events) (*Result, error) {
	o, err := req.Options.normalize()
	if err != nil {
		return nil, err
	}
	req.Options = o
	if strings.TrimSpace(req.Text) == "" {
		return nil, fmt.Errorf("there is no text to summarize")
	}
	maxOut := req.MaxTokens
	if maxOut <= 0 {
		maxOut = summaryTokens(o)
	}
	maxOut = min(maxOut, e.Context/4)
	res := &Result{Chunks: 1}
	// The final step must fit with a few lines of summaries, or no amount
	// of splitting helps.
	probe, err := e.SummaryPrompt(o, req.Title, req.InputLanguage, strings.Repeat("Part 1: x\n", 4), 99)
	if err != nil {
		return nil, err
	}
	if !e.fits(probe, maxOut) {
		return nil, fmt.Errorf("%w: the context of %d tokens is too small for a summary of %d tokens", ErrContext, e.Context, maxOut)
	}

	text, parts := req.Text, 0
	for level := 0; ; level++ {
		p, err := e.SummaryPrompt(o, req.Title, req.InputLanguage, text, parts)
		if err != nil {
			return nil, err
		}
		if e.fits(p, maxOut) {
			res.Prompt = p
			res.PromptTokens += len(p.IDs)
			res.Text, res.Tokens, res.Stop, err = e.stream(ctx, p, maxOut, ev)
			if err != nil {
				return nil, err
			}
			return res, nil
		}
		if level == maxLevels {
			return nil, fmt.Errorf("%w: the text is too long to summarize in a context of %d tokens", ErrContext, e.Context)
		}
		summaries, used, err := e.summarizeParts(ctx, req, text, level, ev)
		if err != nil {
			return nil, err
		}
		res.PromptTokens += used
		if level == 0 {
			res.Chunks = len(summaries)
			res.addNote(noteSummaryParts(len(summaries)))
			ev.note(res.Note)
		}
		text, parts = joinParts(summaries), len(summaries)
	}
}

// summarizeParts is one map step: split text into parts that fit, and
// summarize them all as one batch.
func (e *Engine) summarizeParts(ctx context.Context, req SummarizeRequest, text string, level int, ev Events) ([]string, int, error) {
	// The part prompt's fixed wording, measured with a stand-in part text.
	probe, err := e.partPrompt(99, 99, req, "x")
	if err != nil {
		return nil, 0, err
	}
	free := e.Context - len(probe.IDs) - 8 // 8: slack for the part numbers
	// Each part's summary gets a quarter of the free room, the part the
	// rest, so every round shrinks the text about threefold.
	partOut := min(256, free/4)
	budget := free - partOut
	if partOut < 16 || budget < 32 {
		return nil, 0, fmt.Errorf("%w: the context of %d tokens is too small to summarize a long text", ErrContext, e.Context)
	}
	overlap := min(48, budget/16)
	chunks := Split(text, budget, overlap, e.b.Count)
	prompts := make([][]int32, len(chunks))
	used := 0
	for i, c := range chunks {
		p, err := e.partPrompt(i+1, len(chunks), req, c.Text)
		if err != nil {
			return nil, 0, err
		}
		prompts[i] = p.IDs
		used += len(p.IDs)
	}
	// Progress is reported for the first round, the one the note counts.
	report := func(done int) {
		if level == 0 {
			ev.progress(done, len(chunks))
		}
	}
	report(0)
	var gens []Generation
	if bg, ok := e.Gen.(BatchGenerator); ok && len(prompts) > 1 {
		if gens, err = bg.GenerateBatch(ctx, prompts, e.genOptions(partOut), nil); err != nil {
			return nil, 0, err
		}
		report(len(chunks))
	} else {
		for i, p := range prompts {
			toks, stop, err := e.Gen.Generate(ctx, p, e.genOptions(partOut), nil)
			if err != nil {
				return nil, 0, err
			}
			gens = append(gens, Generation{Tokens: toks, Stop: stop})
			report(i + 1)
		}
	}
	out := make([]string, len(gens))
	for i, g := range gens {
		out[i] = e.decode(g.Tokens)
	}
	return out, used, nil
}
