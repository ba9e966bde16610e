//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/tasks"
	"github.com/doppler-engine/doppler/engine/tokenizer"
	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/doppler-engine/doppler/storage/store"
	"github.com/hack-pad/safejs"
)

// The generation methods of dopplerEngine (Promises; rejections carry the
// protocol code as the Error's name). background.js runs one at a time.
//
//	task(req, onToken, onEvent) → {text, stop, note?, stats}
//	    req is the Port protocol's task message (extension/protocol.md);
//	    onToken(text) gets UTF-8 complete text deltas; onEvent({note}) or
//	    onEvent({parts:{done,total}}) reports notes and long-input progress.
//	complete({model?, backend?, tokens:[...], maxTokens, ignoreEOS?}) → {tokens, stop, model, backend, loadMs}
//	    raw greedy continuation of token ids (tests, diagnostics).
//	load({model?, backend?}) → loaded(); unload() → bool; loaded() → {id, backend, loadMs, architecture} | null
func init() {
	registerAPI("task", func(e *engine, args []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			var req taskRequest
			if err := argJSON(args, 0, &req); err != nil {
				return nil, err
			}
			var onToken, onEvent safejs.Value
			if len(args) > 1 {
				onToken = args[1]
			}
			if len(args) > 2 {
				onEvent = args[2]
			}
			res, err := runTask(e, &req, onToken, onEvent)
			if err != nil {
				return nil, codedError(err)
			}
			return webjs.FromJSON(res)
		})
	})
	registerAPI("complete", func(e *engine, args []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			var req struct {
				ID        string  `json:"id"`
				Model     string  `json:"model"`
				Backend   string  `json:"backend"`
				Tokens    []int32 `json:"tokens"`
				MaxTokens int     `json:"maxTokens"`
				IgnoreEOS bool    `json:"ignoreEOS"`
			}
			if err := argJSON(args, 0, &req); err != nil {
				return nil, err
			}
			if len(req.Tokens) == 0 || req.MaxTokens < 1 {
				return nil, fmt.Errorf("complete needs tokens and maxTokens ≥ 1")
			}
			ctx, done := theHost.startJob(req.ID)
			defer done()
			theHost.gen.Lock()
			defer theHost.gen.Unlock()
			lm, err := theHost.load(ctx, e, req.Model, req.Backend)
			if err != nil {
				return nil, codedError(err)
			}
			var opts tasks.GenOptions
			opts.MaxTokens = req.MaxTokens
			if lm.tok != nil && !req.IgnoreEOS {
				opts.Stop = lm.tok.StopTokens()
			}
			toks, stop, err := lm.gen.Generate(ctx, req.Tokens, opts, nil)
			if err != nil {
				return nil, codedError(theHost.classify(lm.id, err))
			}
			if toks == nil {
				toks = []int32{}
			}
			return webjs.FromJSON(map[string]any{"tokens": toks, "stop": stop, "model": lm.id, "backend": lm.backend, "loadMs": lm.loadMs})
		})
	})
	registerAPI("load", func(e *engine, args []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			var req struct {
				Model   string `json:"model"`
				Backend string `json:"backend"`
			}
			if len(args) > 0 {
				if err := argJSON(args, 0, &req); err != nil {
					return nil, err
				}
			}
			ctx, cancel := timeoutCtx(5 * time.Minute)
			defer cancel()
			theHost.gen.Lock()
			defer theHost.gen.Unlock()
			if _, err := theHost.load(ctx, e, req.Model, req.Backend); err != nil {
				return nil, codedError(err)
			}
			return webjs.FromJSON(theHost.loaded())
		})
	})
	registerAPI("unload", func(_ *engine, _ []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			theHost.gen.Lock()
			defer theHost.gen.Unlock()
			return theHost.unload(), nil
		})
	})
	registerAPI("loaded", func(_ *engine, _ []safejs.Value) any {
		return webjs.Promise(func() (any, error) { return webjs.FromJSON(theHost.loaded()) })
	})
}

// taskRequest is the Port protocol's task message (extension/protocol.md).
type taskRequest struct {
	ID      string      `json:"id"`
	Task    string      `json:"task"`
	Input   taskInput   `json:"input"`
	Options taskOptions `json:"options"`
}

type taskInput struct {
	// summarize and rewrite
	Text  string `json:"text"`
	Title string `json:"title"`
	URL   string `json:"url"`
	Lang  string `json:"lang"`
	// rewrite: the text around the selection, as background
	Context string `json:"context"`
	// chat
	Messages []tokenizer.Message `json:"messages"`
	Page     *tasks.Page         `json:"page"`
}

type taskOptions struct {
	// every task
	Model       string  `json:"model"`   // model id; default: the loaded or first ready model
	Backend     string  `json:"backend"` // "webgpu" (default) or "cpu" (diagnostics)
	Language    string  `json:"language"`
	MaxTokens   int     `json:"maxTokens"`
	Temperature float32 `json:"temperature"`
	TopK        int     `json:"topK"`
	TopP        float32 `json:"topP"`
	Seed        uint64  `json:"seed"`
	// ContextSize caps the tokens one generation may hold (prompt and
	// answer): less GPU memory for the KV cache, longer inputs split sooner.
	// 0: min(model context, taskContext).
	ContextSize int `json:"contextSize"`
	// summarize (Chrome's Summarizer values); rewrite uses Format too
	Type   string `json:"type"`
	Length string `json:"length"`
	Format string `json:"format"`
	// rewrite: action is the UI's one-word choice; tone is Chrome's
	// Rewriter tone (more-formal, as-is, more-casual) for finer control
	Action string `json:"action"`
	Tone   string `json:"tone"`
}

// minTaskContext is the smallest context the tasks work in (engine/tasks
// refuses less: its prompt wording alone takes ~100 tokens).
const minTaskContext = 256

// taskResult is what a finished task resolves with.
type taskResult struct {
	Text  string    `json:"text"`
	Stop  string    `json:"stop"`
	Note  string    `json:"note,omitempty"`
	Stats taskStats `json:"stats"`
}

type taskStats struct {
	Model        string  `json:"model"`
	Backend      string  `json:"backend"`
	PromptTokens int     `json:"promptTokens"`
	Tokens       int     `json:"tokens"` // generated, over every step of the task
	Chunks       int     `json:"chunks"`
	Ms           float64 `json:"ms"`     // the task, load included
	TTFTms       float64 `json:"ttftMs"` // to the first text
	TokPerS      float64 `json:"tokPerS"`
	LoadMs       float64 `json:"loadMs"` // 0 when the model was already loaded (warm)
	Cold         bool    `json:"cold"`
}

// rewriteAction maps the UI's one-word actions to Chrome's Rewriter options.
func rewriteAction(o taskOptions) (tasks.RewriteOptions, error) {
	r := tasks.RewriteOptions{Tone: o.Tone, Format: o.Format, OutputLanguage: o.Language}
	switch o.Action {
	case "", "rewrite":
	case "formal":
		r.Tone = tasks.ToneMoreFormal
	case "casual":
		r.Tone = tasks.ToneMoreCasual
	case "shorter":
		r.Length = tasks.LengthShorter
	case "longer":
		r.Length = tasks.LengthLonger
	case "grammar":
		r.Mode = tasks.ModeFixGrammar
	default:
		return r, fmt.Errorf("unknown rewrite action %q (want formal, casual, shorter, longer or grammar)", o.Action)
	}
	return tasks.ValidateRewriteOptions(r)
}

// runTask loads the model (when needed) and runs one task, streaming text.
func runTask(e *engine, req *taskRequest, onToken, onEvent safejs.Value) (*taskResult, error) {
	ctx, done := theHost.startJob(req.ID)
	defer done()
	theHost.gen.Lock()
	defer theHost.gen.Unlock()
	start := time.Now()
	before := theHost.loaded()
	lm, err := theHost.load(ctx, e, req.Options.Model, req.Options.Backend)
	if err != nil {
		return nil, err
	}
	if lm.tasks == nil {
		return nil, errNoTokenizer
	}
	te := lm.tasks
	counter := &countingGen{inner: lm.gen}
	te.Gen = counter
	defer func() { te.Gen = lm.gen }()
	defer func(n int) { te.Context = n }(te.Context)
	if n := req.Options.ContextSize; n > 0 {
		te.Context = max(minTaskContext, n)
		if c := lm.src.Config().ContextLength; c > 0 {
			te.Context = min(te.Context, c)
		}
	}
	te.Sampling = sample.Params{Temperature: req.Options.Temperature, TopK: req.Options.TopK, TopP: req.Options.TopP, Seed: req.Options.Seed}

	var firstText time.Time
	ev := tasks.Events{
		Text: func(delta string) {
			if delta == "" {
				return
			}
			if firstText.IsZero() {
				firstText = time.Now()
			}
			if onToken.Type() == safejs.TypeFunction {
				_, _ = onToken.Invoke(delta)
			}
		},
		Note: func(note string) { emitEvent(onEvent, map[string]any{"note": note}) },
		Progress: func(d, total int) {
			emitEvent(onEvent, map[string]any{"parts": map[string]any{"done": d, "total": total}})
		},
	}

	var res *tasks.Result
	switch req.Task {
	case "summarize":
		res, err = te.Summarize(ctx, tasks.SummarizeRequest{
			Text: req.Input.Text, Title: req.Input.Title, InputLanguage: req.Input.Lang, MaxTokens: req.Options.MaxTokens,
			Options: tasks.SummarizeOptions{Type: req.Options.Type, Length: req.Options.Length, Format: req.Options.Format,
				OutputLanguage: req.Options.Language},
		}, ev)
	case "rewrite":
		var ro tasks.RewriteOptions
		if ro, err = rewriteAction(req.Options); err != nil {
			return nil, err
		}
		ro.Context = req.Input.Context
		res, err = te.Rewrite(ctx, tasks.RewriteRequest{Text: req.Input.Text, InputLanguage: req.Input.Lang, Options: ro}, ev)
	case "chat":
		msgs := req.Input.Messages
		if len(msgs) == 0 || msgs[len(msgs)-1].Role != "user" {
			return nil, fmt.Errorf("chat needs messages ending with a user message")
		}
		var cr *tasks.ChatResult
		cr, err = te.Chat(ctx, tasks.ChatRequest{History: msgs[:len(msgs)-1], Message: msgs[len(msgs)-1].Content,
			Page: req.Input.Page, Language: req.Options.Language, MaxTokens: req.Options.MaxTokens}, ev)
		if cr != nil {
			res = cr.Result
		}
	default:
		return nil, fmt.Errorf("unknown task %q (want summarize, rewrite or chat)", req.Task)
	}
	if err != nil {
		return nil, theHost.classify(lm.id, err)
	}
	elapsed := time.Since(start)
	st := taskStats{Model: lm.id, Backend: lm.backend, PromptTokens: res.PromptTokens, Tokens: counter.n, Chunks: res.Chunks,
		Ms: ms(elapsed)}
	if before == nil || before.ID != lm.id || before.Backend != lm.backend {
		st.Cold, st.LoadMs = true, lm.loadMs
	}
	if !firstText.IsZero() {
		st.TTFTms = ms(firstText.Sub(start))
	}
	if gen := elapsed.Seconds() - st.LoadMs/1000; gen > 0 {
		st.TokPerS = float64(counter.n) / gen
	}
	return &taskResult{Text: res.Text, Stop: res.Stop, Note: res.Note, Stats: st}, nil
}

// classify gives a model error its store code: a shard whose SHA-256 no
// longer matches marks the model corrupt (and unloads it).
func (h *host) classify(id string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	st, serr := h.store()
	if serr != nil {
		return err
	}
	ce := st.Classify(id, err)
	if ce.Code == store.CodeCorruptModel {
		h.unloadIf(id)
		return ce
	}
	return err
}

func emitEvent(fn safejs.Value, v any) {
	if fn.Type() != safejs.TypeFunction {
		return
	}
	if jv, err := webjs.FromJSON(v); err == nil {
		_, _ = fn.Invoke(jv)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func timeoutCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// countingGen counts the tokens a task generates, over all its steps.
type countingGen struct {
	inner tasks.Generator
	n     int
}

func (c *countingGen) Generate(ctx context.Context, prompt []int32, opts tasks.GenOptions, onToken func(int32) bool) ([]int32, string, error) {
	return c.inner.Generate(ctx, prompt, opts, func(id int32) bool {
		c.n++
		return onToken == nil || onToken(id)
	})
}

func (c *countingGen) GenerateBatch(ctx context.Context, prompts [][]int32, opts tasks.GenOptions, onToken func(int, int32) bool) ([]tasks.Generation, error) {
	return tasks.GenerateAll(ctx, c.inner, prompts, opts, func(seq int, id int32) bool {
		c.n++
		return onToken == nil || onToken(seq, id)
	})
}
