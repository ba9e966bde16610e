//go:build js && wasm

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// In the js/wasm CLI (under build/wasm-exec, which gives it navigator.gpu)
// --backend webgpu runs in-process on engine/runtime.
func init() {
	webgpuBackend = func(subcommand string, args []string, out *output) error {
		switch subcommand {
		case "generate":
			return gpuGenerate(args, out)
		case "logits":
			return gpuLogits(args, out)
		case "verify":
			return gpuVerify(args, out)
		case "bench":
			return gpuBench(args, out)
		}
		return fmt.Errorf("%s has no webgpu implementation", subcommand)
	}
}

// cliContext is cancelled by Ctrl-C.
func cliContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// loadGPU opens a model and loads it on the GPU.
func loadGPU(ctx context.Context, path, precision string) (model.Source, *runtime.Model, error) {
	src, err := model.Open(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := runtime.Load(ctx, src, runtime.LoadOptions{Precision: precision})
	if err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return src, m, nil
}

// The flags are parsed again here: the subcommand's own parse (in its file)
// validated them before handing the raw arguments over.
func gpuGenerate(args []string, out *output) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	modelPath := fs.String("model", "", "")
	prompt := fs.String("prompt", "", "")
	tokens := fs.String("tokens", "", "")
	chat := fs.Bool("chat", false, "")
	maxTokens := fs.Int("max-tokens", 128, "")
	temperature := fs.Float64("temperature", 0, "")
	topK := fs.Int("top-k", 0, "")
	topP := fs.Float64("top-p", 1, "")
	repeatPenalty := fs.Float64("repeat-penalty", 1, "")
	seed := fs.Uint64("seed", 0, "")
	ignoreEOS := fs.Bool("ignore-eos", false, "")
	steps := fs.Int("steps-per-submit", 1, "")
	fs.String("backend", "webgpu", "")
	precision := fs.String("precision", "auto", "")
	fs.Bool("json", false, "")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := cliContext()
	defer cancel()
	src, m, err := loadGPU(ctx, *modelPath, *precision)
	if err != nil {
		return err
	}
	defer src.Close()
	defer m.Close()
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
		tok = nil
	}
	length := len(ids) + *maxTokens + *steps
	if c := m.Config.ContextLength; c > 0 {
		if len(ids) > c {
			return fmt.Errorf("the prompt has %d tokens but the model's context holds %d: shorten it", len(ids), c)
		}
		length = min(length, c)
	}
	s, err := m.NewSession(1, length)
	if err != nil {
		return err
	}
	defer s.Close()
	o := runtime.GenOptions{MaxTokens: *maxTokens, StepsPerSubmit: *steps}
	if tok != nil && !*ignoreEOS {
		o.IsStop = tok.IsStop
	}
	if *temperature > 0 || *repeatPenalty != 1 {
		smp := sample.New(sample.Params{Temperature: float32(*temperature), TopK: *topK, TopP: float32(*topP),
			RepeatPenalty: float32(*repeatPenalty), RepeatLastN: 64, Seed: *seed})
		history := append([]int32(nil), ids...)
		o.Sample = func(_ int, logits []float32) int32 {
			t := smp.Sample(logits, history)
			history = append(history, t)
			return t
		}
	}
	res, err := s.Generate(ctx, [][]int32{ids}, o)
	if err != nil {
		return err
	}
	g := &generation{Tokens: res[0].Tokens, Stop: res[0].Stop}
	if tok != nil {
		g.Text = continuation(tok, ids, g.Tokens)
	}
	return out.Emit(g, func(w io.Writer) { fmt.Fprintln(w, g.Text) })
}

func gpuLogits(args []string, out *output) error {
	fs := flag.NewFlagSet("logits", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	modelPath := fs.String("model", "", "")
	tokens := fs.String("tokens", "", "")
	fs.String("backend", "cpu", "")
	precision := fs.String("precision", "auto", "")
	fs.Bool("json", false, "")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	ids, err := parseTokens(*tokens)
	if err != nil {
		return err
	}
	ctx, cancel := cliContext()
	defer cancel()
	src, m, err := loadGPU(ctx, *modelPath, *precision)
	if err != nil {
		return err
	}
	defer src.Close()
	defer m.Close()
	s, err := m.NewSession(1, len(ids))
	if err != nil {
		return err
	}
	defer s.Close()
	logits, err := s.Logits(ctx, 0, ids, true)
	if err != nil {
		return err
	}
	return out.Emit(map[string]any{"logits": logits}, func(w io.Writer) {
		for i, l := range logits {
			top := sample.Argmax(l)
			fmt.Fprintf(w, "position %d (token %d): argmax %d, logit %.6f\n", i, ids[i], top, l[top])
		}
	})
}

func gpuVerify(args []string, out *output) error {
	f, err := parseVerifyFlags(args)
	if err != nil {
		return err
	}
	ctx, cancel := cliContext()
	defer cancel()
	src, err := model.Open(f.model)
	if err != nil {
		return err
	}
	defer src.Close()
	res, err := runtime.Verify(ctx, src, f.tokens, runtime.VerifyOptions{Precision: f.precision, Tolerance: f.tolerance})
	if err != nil {
		return err
	}
	return out.Emit(res, func(w io.Writer) {
		for _, o := range res.Ops {
			mark := "ok"
			if !o.OK {
				mark = "DIVERGES"
			}
			fmt.Fprintf(w, "layer %3d %-10s max |gpu-cpu| %.3g  %s\n", o.Layer, o.Op, o.MaxAbsDiff, mark)
		}
		if d := res.FirstDivergence; d != nil {
			fmt.Fprintf(w, "first divergence: %s of layer %d (max |gpu-cpu| %.3g)\n", d.Op, d.Layer, d.MaxAbsDiff)
		} else {
			fmt.Fprintln(w, "GPU and CPU agree on every op")
		}
	})
}

func gpuBench(args []string, out *output) error {
	f, err := parseBenchFlags(args)
	if err != nil {
		return err
	}
	ctx, cancel := cliContext()
	defer cancel()
	src, err := model.Open(f.model)
	if err != nil {
		return err
	}
	defer src.Close()
	r, err := runtime.Bench(ctx, src, runtime.BenchOptions{PromptTokens: f.promptTokens, GenTokens: f.genTokens,
		StepsPerSubmit: f.steps, Precision: f.precision})
	if err != nil {
		return err
	}
	return out.Emit(r, func(w io.Writer) { printBench(w, r) })
}
