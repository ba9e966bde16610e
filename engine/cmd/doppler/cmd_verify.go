package main

import (
	"flag"
	"io"
)

// verify runs a token sequence through the model on the CPU reference and
// on WebGPU side by side and compares every op's output (GPU vs CPU).
func init() {
	register(&command{
		name:    "verify",
		summary: "compare every GPU op with the CPU reference on a token sequence",
		run:     runVerify,
	})
}

type verifyFlags struct {
	model     string
	tokens    []int32
	precision string
	tolerance float64
}

func defineVerifyFlags(fs *flag.FlagSet, f *verifyFlags, tokens *string) {
	fs.StringVar(&f.model, "model", "", "model: .gguf file, HF folder or shard folder")
	fs.StringVar(tokens, "tokens", "", "comma-separated token ids, used exactly as given (no BOS added)")
	fs.StringVar(&f.precision, "precision", "auto", "auto, f32 or f16 (GPU activations)")
	fs.Float64Var(&f.tolerance, "tolerance", 0, "largest |gpu - cpu| per op, relative to max(1, max |cpu|); 0 = 1e-3 (f32), 2e-2 (f16)")
	fs.String("backend", "webgpu", "webgpu (the only backend verify compares with the CPU)")
}

func checkVerifyFlags(f *verifyFlags, tokens string, pos []string, backend string) error {
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case f.model == "" || tokens == "":
		return usagef("--model and --tokens are required")
	case f.tolerance < 0:
		return usagef("--tolerance must not be negative")
	case backend != "webgpu":
		return usagef("--backend %q: verify compares webgpu with the CPU reference", backend)
	}
	var err error
	if f.tokens, err = parseTokens(tokens); err != nil {
		return err
	}
	return checkBackend("webgpu", f.precision)
}

func runVerify(fs *flag.FlagSet, args []string, out *output) error {
	var f verifyFlags
	var tokens string
	defineVerifyFlags(fs, &f, &tokens)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkVerifyFlags(&f, tokens, pos, fs.Lookup("backend").Value.String()); err != nil {
		return err
	}
	return runWebGPU("verify", args, out)
}

// parseVerifyFlags parses verify's arguments again where they are run.
func parseVerifyFlags(args []string) (*verifyFlags, error) {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("json", false, "")
	var f verifyFlags
	var tokens string
	defineVerifyFlags(fs, &f, &tokens)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	return &f, checkVerifyFlags(&f, tokens, pos, fs.Lookup("backend").Value.String())
}
