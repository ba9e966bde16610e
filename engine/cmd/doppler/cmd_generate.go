package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/doppler-engine/doppler/engine/arch"
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

func runGenerate(fs *flag.FlagSet, args []string, out *output) error {
	modelPath := fs.String("model", "", "model: .gguf file, HF folder or shard folder")
	prompt := fs.String("prompt", "", "prompt text, tokenized with the model's rules (BOS included)")
	tokens := fs.String("tokens", "", "prompt as comma-separated token ids, used exactly as given (no BOS added)")
	chat := fs.Bool("chat", false, "apply the model's chat template to --prompt as one user turn")
	maxTokens := fs.Int("max-tokens", 128, "most tokens to generate")
	temperature := fs.Float64("temperature", 0, "sampling temperature (0 = greedy)")
	topK := fs.Int("top-k", 0, "sample among the k most likely tokens (0 = all)")
	topP := fs.Float64("top-p", 1, "sample among the most likely tokens whose probabilities sum to p (1 = off)")
	repeatPenalty := fs.Float64("repeat-penalty", 1, "divide logits of recent tokens by this (1 = off)")
	seed := fs.Uint64("seed", 0, "random seed for sampling")
	ignoreEOS := fs.Bool("ignore-eos", false, "keep generating past end-of-sequence tokens")
	stepsPerSubmit := fs.Int("steps-per-submit", 1, "decode steps per GPU submission (webgpu)")
	backend := fs.String("backend", "webgpu", "webgpu or cpu (pure-Go reference)")
	precision := fs.String("precision", "auto", "auto, f32 or f16 (webgpu)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *modelPath == "":
		return usagef("--model is required")
	case (*prompt == "") == (*tokens == ""):
		return usagef("give exactly one of --prompt and --tokens")
	case *chat && *prompt == "":
		return usagef("--chat applies to --prompt")
	case *maxTokens < 1:
		return usagef("--max-tokens must be at least 1")
	case *temperature < 0 || *topK < 0 || *topP <= 0 || *topP > 1 || *repeatPenalty <= 0:
		return usagef("want --temperature ≥ 0, --top-k ≥ 0, 0 < --top-p ≤ 1, --repeat-penalty > 0")
	case *stepsPerSubmit < 1:
		return usagef("--steps-per-submit must be at least 1")
	}
	if err := checkBackend(*backend, *precision); err != nil {
		return err
	}
	if *backend == "webgpu" {
		return runWebGPU("generate", args, out)
	}

	src, m, be, err := loadCPU(*modelPath)
	if err != nil {
		return err
	}
	defer src.Close()
	tok, tokErr := tokenizer.FromMetadata(src.Metadata())
	var ids []int32
	if *tokens != "" {
		if ids, err = parseTokens(*tokens); err != nil {
			return err
		}
	} else {
		if tokErr != nil {
			return fmt.Errorf("--prompt needs the model's tokenizer: %w (pass --tokens instead)", tokErr)
		}
		if ids, err = promptTokens(tok, *prompt, *chat); err != nil {
			return err
		}
	}
	if tokErr != nil {
		tok = nil // token ids in, token ids out; no text, no stop tokens
	}

	length := len(ids) + *maxTokens
	if ctx := m.Config().ContextLength; ctx > 0 && length > ctx {
		if len(ids) >= ctx {
			return fmt.Errorf("the prompt has %d tokens but the model's context holds %d", len(ids), ctx)
		}
		length = ctx
	}
	var isStop func(int32) bool
	if tok != nil && !*ignoreEOS {
		isStop = tok.IsStop
	}
	g, err := generate(m, be, ids, length, *maxTokens, isStop, sample.New(sample.Params{
		Temperature:   float32(*temperature),
		TopK:          *topK,
		TopP:          float32(*topP),
		RepeatPenalty: float32(*repeatPenalty),
		RepeatLastN:   64,
		Seed:          *seed,
	}))
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
