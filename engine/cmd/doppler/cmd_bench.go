package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/sample"
)

// bench measures prefill and decode speed (webgpu by default; --backend cpu
// times the pure-Go reference the same way).
func init() {
	register(&command{
		name:    "bench",
		summary: "measure prefill and decode speed",
		run:     runBench,
	})
}

type benchFlags struct {
	model                   string
	promptTokens, genTokens int
	steps, maxChunk         int
	context                 int
	temperature             float64
	backend, precision      string
	serial, profile         bool
}

func defineBenchFlags(fs *flag.FlagSet, f *benchFlags) {
	fs.StringVar(&f.model, "model", "", "model: .gguf file, HF folder or shard folder")
	fs.IntVar(&f.promptTokens, "prompt-tokens", 512, "prompt length")
	fs.IntVar(&f.genTokens, "gen-tokens", 128, "tokens to generate")
	fs.IntVar(&f.steps, "steps-per-submit", runtime.DefaultStepsPerSubmit, "decode steps per GPU submission (webgpu; the extension's default)")
	fs.IntVar(&f.context, "context", 0, "positions the session holds (webgpu; 0 = prompt + generated tokens): a longer one times a short history in a long cache")
	fs.IntVar(&f.maxChunk, "max-chunk", 0, "most prompt rows per GPU step (webgpu; 0 = the engine's default, 512)")
	fs.Float64Var(&f.temperature, "temperature", 0, "sample decoded tokens at this temperature (seed 1, top-k 0 = the 256 best); 0 = greedy")
	fs.StringVar(&f.backend, "backend", "webgpu", "webgpu or cpu")
	fs.StringVar(&f.precision, "precision", "auto", "auto, f32 or f16 (webgpu)")
	fs.BoolVar(&f.serial, "serial", false, "read back each decode submission before the next (webgpu; default keeps two in flight)")
	fs.BoolVar(&f.profile, "profile", false, "time decode replays with GPU timestamps, then op by op (webgpu; needs timestamp-query)")
}

func checkBenchFlags(f *benchFlags, pos []string) error {
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case f.model == "":
		return usagef("--model is required")
	case f.promptTokens < 1 || f.genTokens < 2:
		return usagef("want --prompt-tokens ≥ 1 and --gen-tokens ≥ 2")
	case f.steps < 1:
		return usagef("--steps-per-submit must be at least 1")
	case f.maxChunk < 0:
		return usagef("--max-chunk must not be negative")
	case f.context < 0:
		return usagef("--context must not be negative")
	case f.temperature < 0:
		return usagef("--temperature must not be negative")
	}
	return checkBackend(f.backend, f.precision)
}

func runBench(fs *flag.FlagSet, args []string, out *output) error {
	var f benchFlags
	defineBenchFlags(fs, &f)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkBenchFlags(&f, pos); err != nil {
		return err
	}
	if f.backend == "webgpu" {
		return runWebGPU("bench", args, out)
	}
	r, err := benchCPU(&f)
	if err != nil {
		return err
	}
	return out.Emit(r, func(w io.Writer) { printBench(w, r) })
}

// parseBenchFlags parses bench's arguments again where they are run.
func parseBenchFlags(args []string) (*benchFlags, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("json", false, "")
	var f benchFlags
	defineBenchFlags(fs, &f)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	return &f, checkBenchFlags(&f, pos)
}

// benchSampling is the sampling bench decodes with at temperature t.
func benchSampling(t float64) sample.Params {
	return sample.Params{Temperature: float32(t), Seed: 1}
}

// benchCPU times the CPU reference: one prefill, then greedy (or sampled)
// decode.
func benchCPU(f *benchFlags) (*runtime.BenchReport, error) {
	start := time.Now()
	src, m, be, err := loadCPU(f.model)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	load := time.Since(start)
	vocab := m.Config().VocabSize
	ids := make([]int32, f.promptTokens)
	for i := range ids {
		ids[i] = int32((i*7919 + 13) % vocab)
	}
	r := arch.NewRunner(m, be, 1, f.promptTokens+f.genTokens)
	start = time.Now()
	logits, err := r.Feed([]int{0}, [][]int32{ids}, false)
	if err != nil {
		return nil, err
	}
	ttft := time.Since(start)
	smp := sample.New(benchSampling(f.temperature))
	history := append([]int32(nil), ids...)
	start = time.Now()
	for i := 1; i < f.genTokens; i++ {
		next := smp.Sample(logits[0], history)
		history = append(history, next)
		if logits, err = r.Feed([]int{0}, [][]int32{{next}}, false); err != nil {
			return nil, err
		}
	}
	decode := time.Since(start)
	return &runtime.BenchReport{
		PrefillTokS: float64(f.promptTokens) / ttft.Seconds(),
		DecodeTokS:  float64(f.genTokens-1) / decode.Seconds(),
		TTFTms:      float64(ttft.Microseconds()) / 1e3,
		LoadMs:      float64(load.Microseconds()) / 1e3,
		Device:      "cpu (pure-Go reference)",
		Temperature: f.temperature,
	}, nil
}

func printBench(w io.Writer, r *runtime.BenchReport) {
	fmt.Fprintf(w, "device       %s\n", r.Device)
	if r.Precision != "" {
		fmt.Fprintf(w, "activations  %s\n", r.Precision)
	}
	fmt.Fprintf(w, "load         %.1f ms\n", r.LoadMs)
	fmt.Fprintf(w, "prefill      %.1f tok/s (time to first token %.1f ms)\n", r.PrefillTokS, r.TTFTms)
	if r.Temperature > 0 {
		fmt.Fprintf(w, "decode       %.1f tok/s (sampled at temperature %g)\n", r.DecodeTokS, r.Temperature)
	} else {
		fmt.Fprintf(w, "decode       %.1f tok/s\n", r.DecodeTokS)
	}
	if r.Context > 0 {
		fmt.Fprintf(w, "context      %d positions\n", r.Context)
	}
	if r.GPUBytes > 0 {
		fmt.Fprintf(w, "GPU memory   %d bytes\n", r.GPUBytes)
		fmt.Fprintf(w, "per token    %.1f dispatches, %.2f JS calls, %.0f weight bytes\n", r.DispatchesPerToken, r.JSCallsPerToken, r.WeightBytesPerToken)
	}
	if p := r.Profile; p != nil {
		fmt.Fprintf(w, "decode step  %.3f ms GPU, %.3f ms encoding (%.3f of it submitting), %.3f ms submit to read-back (%d replays)\n",
			p.Decode.GPUMs, p.Decode.EncodeMs, p.Decode.SubmitMs, p.Decode.WaitMs, p.Decode.Replays)
		fmt.Fprintf(w, "op by op     %.3f ms GPU per step, each dispatch in its own pass:\n", p.Ops.GPUMs)
		printOps(w, p.Ops.Ops)
		if p.PrefillRows > 0 {
			fmt.Fprintf(w, "prefill      %.3f ms GPU per chunk of %d rows, each dispatch in its own pass:\n", p.Prefill.GPUMs, p.PrefillRows)
			printOps(w, p.Prefill.Ops)
		}
	}
}

func printOps(w io.Writer, ops []runtime.OpTime) {
	for _, o := range ops {
		fmt.Fprintf(w, "  %-12s %-34s %4d × %8.4f ms = %.4f ms\n", o.Op, o.Kernel, o.Dispatches, o.Ms/float64(o.Dispatches), o.Ms)
	}
}
