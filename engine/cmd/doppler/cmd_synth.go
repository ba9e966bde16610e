package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/synth"
)

func init() {
	register(&command{
		name:    "synth",
		summary: "write a random-weight GGUF with a real architecture's shape",
		run:     runSynth,
	})
}

func runSynth(fs *flag.FlagSet, args []string, out *output) error {
	path := fs.String("o", "", "output .gguf file (required)")
	arch := fs.String("arch", "", "architecture: "+strings.Join(synth.Archs, "|"))
	shape := fs.String("shape", "tiny", "shape: "+strings.Join(synth.Shapes(), "|"))
	dt := fs.String("dtype", "keep", "tensor type: keep (F32)|"+strings.Join(model.DTypeTargets, "|"))
	seed := fs.Uint64("seed", 0, "random seed (the same seed gives the same bytes)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *path == "" {
		return usagef("-o FILE.gguf is required")
	}
	if err := checkDType(*dt); err != nil {
		return err
	}
	o := synth.Options{Arch: *arch, Shape: *shape, DType: *dt, Seed: *seed}
	if _, err := synth.Config(o); err != nil {
		return usageError{err.Error()}
	}
	res, err := synth.WriteFile(*path, o)
	if err != nil {
		return fmt.Errorf("write %s: %w", *path, err)
	}
	return out.Emit(map[string]any{"path": *path, "bytes": res.Bytes, "params": res.Params}, func(w io.Writer) {
		fmt.Fprintf(w, "wrote %s: %d bytes, %d parameters\n", *path, res.Bytes, res.Params)
	})
}

// checkDType rejects a --dtype value convert and synth do not know.
func checkDType(dt string) error {
	if dt == "keep" {
		return nil
	}
	for _, t := range model.DTypeTargets {
		if dt == t {
			return nil
		}
	}
	return usagef("--dtype %q: want keep or one of %s", dt, strings.Join(model.DTypeTargets, ", "))
}
