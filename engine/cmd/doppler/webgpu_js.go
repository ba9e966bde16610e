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

// openCLI opens a model under cliContext; done closes both.
func openCLI(path string) (context.Context, model.Source, func(), error) {
	ctx, cancel := cliContext()
	src, err := model.Open(path)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, src, func() { src.Close(); cancel() }, nil
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
	f, err := parseGenerateFlags(args)
	if err != nil {
		return err
	}
	ctx, cancel := cliContext()
	defer cancel()
	src, m, err := loadGPU(ctx, f.model, f.precision)
	if err != nil {
		return err
	}
	defer src.Close()
	defer m.Close()
	tok, ids, err := f.inputIDs(src.Metadata())
	if err != nil {
		return err
	}
	length := len(ids) + f.maxTokens + f.steps
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
	o := runtime.GenOptions{MaxTokens: f.maxTokens, StepsPerSubmit: f.steps}
	if tok != nil && !f.ignoreEOS {
		o.IsStop = tok.IsStop
	}
	// Sampled or greedy, the GPU picks the tokens (engine/sample's
	// algorithm: the CPU backend's tokens for a seed).
	o.Sampling = f.sampleParams()
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
	ctx, src, done, err := openCLI(f.model)
	if err != nil {
		return err
	}
	defer done()
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
	ctx, src, done, err := openCLI(f.model)
	if err != nil {
		return err
	}
	defer done()
	r, err := runtime.Bench(ctx, src, runtime.BenchOptions{PromptTokens: f.promptTokens, GenTokens: f.genTokens,
		StepsPerSubmit: f.steps, Precision: f.precision, Serial: f.serial, Profile: f.profile, MaxChunk: f.maxChunk,
		Context: f.context, Sampling: benchSampling(f.temperature)})
	if err != nil {
		return err
	}
	return out.Emit(r, func(w io.Writer) { printBench(w, r) })
}
