package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/tasks"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// summarize runs the extension's summary task (engine/tasks) from the
// command line: the same prompts, chunking and notes, on the CPU reference
// or on WebGPU.
func init() {
	register(&command{
		name:    "summarize",
		summary: "summarize a text file or string with the model, as the extension does",
		run:     runSummarize,
	})
}

// summary is the --json output.
type summary struct {
	Text         string `json:"text"`
	PromptTokens int    `json:"prompt_tokens"`
	Chunks       int    `json:"chunks"`
	Stop         string `json:"stop"`
	Note         string `json:"note,omitempty"`
}

// webgpuTaskGenerator, set by the js/wasm WebGPU wiring, makes a tasks
// generator on WebGPU for a model; nil means this build has none.
var webgpuTaskGenerator func(ctx context.Context, src model.Source, precision string) (gen tasks.Generator, release func(), err error)

func runSummarize(fs *flag.FlagSet, args []string, out *output) error {
	var mf modelFlags
	mf.define(fs)
	file := fs.String("file", "", "text file to summarize")
	text := fs.String("text", "", "text to summarize")
	title := fs.String("title", "", "page title, given to the model")
	typ := fs.String("type", "key-points", "key-points|tldr|teaser|headline")
	length := fs.String("length", "short", "short|medium|long")
	format := fs.String("format", "markdown", "markdown|plain-text")
	language := fs.String("language", "", "output language (BCP 47 tag or name); default: the text's")
	inputLanguage := fs.String("input-language", "", "the text's language (BCP 47), as a page declares it")
	sharedContext := fs.String("shared-context", "", "background for the summary")
	contextTokens := fs.Int("context", 0, "context size in tokens (0 = the model's); a smaller one makes long texts split")
	maxTokens := fs.Int("max-tokens", 0, "most tokens of the summary (0 = by type and length)")
	temperature := fs.Float64("temperature", 0, "sampling temperature (0 = greedy)")
	seed := fs.Uint64("seed", 0, "random seed for sampling")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := mf.checkInput(pos, "file", *file, "text", *text); err != nil {
		return err
	}
	switch {
	case *contextTokens < 0 || *maxTokens < 0 || *temperature < 0:
		return usagef("--context, --max-tokens and --temperature must not be negative")
	}
	opts := tasks.SummarizeOptions{Type: *typ, Length: *length, Format: *format, OutputLanguage: *language, SharedContext: *sharedContext}
	if _, err := tasks.ValidateSummarizeOptions(opts); err != nil {
		return usagef("%v", err)
	}
	if err := checkBackend(mf.backend, mf.precision); err != nil {
		return err
	}
	if mf.backend == "webgpu" && !(webgpuInProcess && webgpuTaskGenerator != nil) {
		return runWebGPU("summarize", args, out)
	}
	input := *text
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		input = string(b)
	}

	ctx := context.Background()
	var gen tasks.Generator
	var src model.Source
	ctxLen := 0
	if mf.backend == "webgpu" {
		if src, err = model.Open(mf.model); err != nil {
			return err
		}
		defer src.Close()
		g, release, err := webgpuTaskGenerator(ctx, src, mf.precision)
		if err != nil {
			return err
		}
		defer release()
		gen, ctxLen = g, src.Config().ContextLength
	} else {
		s, m, be, err := loadCPU(mf.model)
		if err != nil {
			return err
		}
		defer s.Close()
		src, gen, ctxLen = s, &tasks.ArchGenerator{Model: m, Backend: be}, m.Config().ContextLength
	}
	tok, err := tokenizer.FromMetadata(src.Metadata())
	if err != nil {
		return fmt.Errorf("summarize needs the model's tokenizer: %w", err)
	}
	if *contextTokens > 0 && (ctxLen <= 0 || *contextTokens < ctxLen) {
		ctxLen = *contextTokens
	}
	if ctxLen <= 0 {
		return fmt.Errorf("the model does not say its context length: pass --context")
	}
	eng, err := tasks.NewEngine(tok, gen, ctxLen)
	if err != nil {
		return err
	}
	eng.Sampling = sample.Params{Temperature: float32(*temperature), Seed: *seed}
	var ev tasks.Events
	if !out.JSON {
		// Stream to the terminal as the text comes.
		ev.Note = func(n string) { fmt.Fprintf(out.Stdout, "(%s)\n\n", n) }
		ev.Text = func(d string) { io.WriteString(out.Stdout, d) }
	}
	res, err := eng.Summarize(ctx, tasks.SummarizeRequest{
		Text: input, Title: *title, InputLanguage: *inputLanguage, Options: opts, MaxTokens: *maxTokens,
	}, ev)
	if err != nil {
		return err
	}
	s := summary{Text: res.Text, PromptTokens: res.PromptTokens, Chunks: res.Chunks, Stop: res.Stop, Note: res.Note}
	return out.Emit(s, func(w io.Writer) {
		if !strings.HasSuffix(res.Text, "\n") {
			fmt.Fprintln(w)
		}
	})
}
