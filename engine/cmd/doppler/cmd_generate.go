package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// generate defaults to --backend webgpu (DESIGN.md); scripts and tests always
// pass --backend explicitly, and --backend cpu runs the pure-Go reference.
func init() {
	register(&command{
		name:    "generate",
		summary: "generate text from a prompt (or token ids) with the model",
		run:     runGenerate,
	})
}

// generation is the --json output: generated tokens only (the stop token
// that ended generation is not included).
type generation struct {
	Tokens []int32 `json:"tokens"`
	Text   string  `json:"text"`
	Stop   string  `json:"stop"` // "eos" or "length"
}

// generateFlags are generate's flags; the js/wasm WebGPU path parses them
// again with parseGenerateFlags.
type generateFlags struct {
	modelFlags
	prompt, tokens string
	chat           bool
	maxTokens      int
	temperature    float64
	topK           int
	topP           float64
	repeatPenalty  float64
	seed           uint64
	ignoreEOS      bool
	steps          int
}

func defineGenerateFlags(fs *flag.FlagSet, f *generateFlags) {
	f.modelFlags.define(fs)
	fs.StringVar(&f.prompt, "prompt", "", "prompt text, tokenized with the model's rules (BOS included)")
	fs.StringVar(&f.tokens, "tokens", "", "prompt as comma-separated token ids, used exactly as given (no BOS added)")
	fs.BoolVar(&f.chat, "chat", false, "apply the model's chat template to --prompt as one user turn")
	fs.IntVar(&f.maxTokens, "max-tokens", 128, "most tokens to generate")
	fs.Float64Var(&f.temperature, "temperature", 0, "sampling temperature (0 = greedy)")
	fs.IntVar(&f.topK, "top-k", 0, "sample among the k most likely tokens (0 or more than 256 = the 256 most likely)")
	fs.Float64Var(&f.topP, "top-p", 1, "sample among the most likely tokens whose probabilities sum to p (1 = off)")
	fs.Float64Var(&f.repeatPenalty, "repeat-penalty", 1, "divide logits of recent tokens by this (1 = off)")
	fs.Uint64Var(&f.seed, "seed", 0, "random seed for sampling")
	fs.BoolVar(&f.ignoreEOS, "ignore-eos", false, "keep generating past end-of-sequence tokens")
	fs.IntVar(&f.steps, "steps-per-submit", runtime.DefaultStepsPerSubmit, "decode steps per GPU submission (webgpu; the extension's default)")
}

func checkGenerateFlags(f *generateFlags, pos []string) error {
	if err := f.checkInput(pos, "prompt", f.prompt, "tokens", f.tokens); err != nil {
		return err
	}
	switch {
	case f.chat && f.prompt == "":
		return usagef("--chat applies to --prompt")
	case f.maxTokens < 1:
		return usagef("--max-tokens must be at least 1")
	case f.temperature < 0 || f.topK < 0 || f.topP <= 0 || f.topP > 1 || f.repeatPenalty <= 0:
		return usagef("want --temperature ≥ 0, --top-k ≥ 0, 0 < --top-p ≤ 1, --repeat-penalty > 0")
	case f.steps < 1:
		return usagef("--steps-per-submit must be at least 1")
	}
	return checkBackend(f.backend, f.precision)
}

// parseGenerateFlags parses generate's arguments again where they are run.
func parseGenerateFlags(args []string) (*generateFlags, error) {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("json", false, "")
	var f generateFlags
	defineGenerateFlags(fs, &f)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	return &f, checkGenerateFlags(&f, pos)
}

// sampleParams are the sampler settings of the flags (RepeatLastN fixed at 64).
func (f *generateFlags) sampleParams() sample.Params {
	return sample.Params{
		Temperature:   float32(f.temperature),
		TopK:          f.topK,
		TopP:          float32(f.topP),
		RepeatPenalty: float32(f.repeatPenalty),
		RepeatLastN:   64,
		Seed:          f.seed,
	}
}

// inputIDs returns the prompt's token ids (--tokens as given, or --prompt
// tokenized) and the model's tokenizer, nil when the model has none: token
// ids in, token ids out, with no text and no stop tokens.
func (f *generateFlags) inputIDs(md map[string]any) (*tokenizer.Tokenizer, []int32, error) {
	tok, tokErr := tokenizer.FromMetadata(md)
	var ids []int32
	var err error
	if f.tokens != "" {
		if ids, err = parseTokens(f.tokens); err != nil {
			return nil, nil, err
		}
	} else {
		if tokErr != nil {
			return nil, nil, fmt.Errorf("--prompt needs the model's tokenizer: %w (pass --tokens instead)", tokErr)
		}
		if ids, err = promptTokens(tok, f.prompt, f.chat); err != nil {
			return nil, nil, err
		}
	}
	if tokErr != nil {
		tok = nil
	}
	return tok, ids, nil
}

func runGenerate(fs *flag.FlagSet, args []string, out *output) error {
	var f generateFlags
	defineGenerateFlags(fs, &f)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkGenerateFlags(&f, pos); err != nil {
		return err
	}
	if f.backend == "webgpu" {
		return runWebGPU("generate", args, out)
	}

	src, m, be, err := loadCPU(f.model)
	if err != nil {
		return err
	}
	defer src.Close()
	tok, ids, err := f.inputIDs(src.Metadata())
	if err != nil {
		return err
	}

	length := len(ids) + f.maxTokens
	if ctx := m.Config().ContextLength; ctx > 0 && length > ctx {
		if len(ids) >= ctx {
			return fmt.Errorf("the prompt has %d tokens but the model's context holds %d", len(ids), ctx)
		}
		length = ctx
	}
	var isStop func(int32) bool
	if tok != nil && !f.ignoreEOS {
		isStop = tok.IsStop
	}
	g, err := generate(m, be, ids, length, f.maxTokens, isStop, sample.New(f.sampleParams()))
	if err != nil {
		return err
	}
	if tok != nil {
		g.Text = continuation(tok, ids, g.Tokens)
	}
	return out.Emit(g, func(w io.Writer) { fmt.Fprintln(w, g.Text) })
}

// generate prefills ids in one step, then decodes one token per step until
// isStop (when not nil) accepts a token, maxTokens, or the cache length.
func generate(m arch.Model, be arch.Backend, ids []int32, length, maxTokens int, isStop func(int32) bool, s *sample.Sampler) (*generation, error) {
	r := arch.NewRunner(m, be, 1, length)
	history := append([]int32(nil), ids...)
	g := &generation{Tokens: []int32{}, Stop: "length"}
	logits, err := r.Feed([]int{0}, [][]int32{ids}, false)
	for err == nil {
		next := s.Sample(logits[0], history)
		if isStop != nil && isStop(next) {
			g.Stop = "eos"
			break
		}
		g.Tokens = append(g.Tokens, next)
		history = append(history, next)
		if len(g.Tokens) >= maxTokens || r.Len(0) >= length {
			break
		}
		logits, err = r.Feed([]int{0}, [][]int32{{next}}, false)
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

// continuation decodes gen as it continues prompt: a SentencePiece word piece
// keeps its leading space, which decoding gen alone would drop.
func continuation(tok *tokenizer.Tokenizer, prompt, gen []int32) string {
	pre := tok.Decode(prompt)
	full := tok.Decode(append(append([]int32(nil), prompt...), gen...))
	if strings.HasPrefix(full, pre) {
		return full[len(pre):]
	}
	return tok.Decode(gen)
}

// promptTokens tokenizes --prompt with the model's rules (BOS when the
// model adds one); with --chat the prompt becomes one user turn of the
// model's chat template, followed by the assistant's turn header (the
// template writes BOS and special tokens itself).
func promptTokens(tok *tokenizer.Tokenizer, prompt string, chat bool) ([]int32, error) {
	if !chat {
		return tok.Encode(prompt, true), nil
	}
	ids, err := tok.ChatTokens([]tokenizer.Message{{Role: "user", Content: prompt}}, true)
	if err != nil {
		return nil, fmt.Errorf("--chat: %w", err)
	}
	return ids, nil
}
