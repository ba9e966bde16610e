package main

import "flag"

// modelFlags are the flags of the subcommands that run a model from an
// input on either backend (generate, summarize): webgpu by default.
type modelFlags struct {
	model, backend, precision string
}

func (f *modelFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "model: .gguf file, HF folder or shard folder")
	fs.StringVar(&f.backend, "backend", "webgpu", "webgpu or cpu (pure-Go reference)")
	fs.StringVar(&f.precision, "precision", "auto", "auto, f32 or f16 (webgpu)")
}

// checkInput is these subcommands' first check: no positional arguments, a
// model, and exactly one of the two input flags named a and b (values va, vb).
func (f *modelFlags) checkInput(pos []string, a, va, b, vb string) error {
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case f.model == "":
		return usagef("--model is required")
	case (va == "") == (vb == ""):
		return usagef("give exactly one of --%s and --%s", a, b)
	}
	return nil
}
