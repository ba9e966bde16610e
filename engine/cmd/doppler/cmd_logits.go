package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/doppler-engine/doppler/engine/sample"
)

func init() {
	register(&command{
		name:    "logits",
		summary: "print the model's logits at every position of a token sequence",
		run:     runLogits,
	})
}

func runLogits(fs *flag.FlagSet, args []string, out *output) error {
	modelPath := fs.String("model", "", "model: .gguf file, HF folder or shard folder")
	tokens := fs.String("tokens", "", "comma-separated token ids, used exactly as given (no BOS added)")
	backend := fs.String("backend", "cpu", "cpu (pure-Go reference) or webgpu")
	precision := fs.String("precision", "auto", "auto, f32 or f16 (webgpu)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *modelPath == "" || *tokens == "" {
		return usagef("--model and --tokens are required")
	}
	ids, err := parseTokens(*tokens)
	if err != nil {
		return err
	}
	if err := checkBackend(*backend, *precision); err != nil {
		return err
	}
	if *backend == "webgpu" {
		return runWebGPU("logits", args, out)
	}
	src, m, be, err := loadCPU(*modelPath)
	if err != nil {
		return err
	}
	defer src.Close()
	r := arch.NewRunner(m, be, 1, len(ids))
	logits, err := r.Feed([]int{0}, [][]int32{ids}, true)
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

// parseTokens reads "1,2,3" (spaces allowed).
func parseTokens(s string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil || v < 0 {
			return nil, usagef("--tokens: %q is not a token id (want comma-separated non-negative integers)", f)
		}
		ids = append(ids, int32(v))
	}
	if len(ids) == 0 {
		return nil, usagef("--tokens: no token ids given")
	}
	return ids, nil
}

func checkBackend(backend, precision string) error {
	switch backend {
	case "cpu", "webgpu":
	default:
		return usagef("--backend %q: want cpu or webgpu", backend)
	}
	switch precision {
	case "auto", "f32":
	case "f16":
		if backend == "cpu" {
			return fmt.Errorf("--precision f16 is a webgpu option: the cpu backend computes in f32 (use --precision f32 or auto)")
		}
	default:
		return usagef("--precision %q: want auto, f32 or f16", precision)
	}
	return nil
}

// webgpuBackend runs a subcommand on the WebGPU engine (the wasm under
// Node+Dawn). The WebGPU build sets it; nil means this build has none.
var webgpuBackend func(subcommand string, args []string, out *output) error

func runWebGPU(subcommand string, args []string, out *output) error {
	if webgpuBackend == nil {
		return fmt.Errorf("the webgpu backend is not part of this build yet; use --backend cpu")
	}
	return webgpuBackend(subcommand, args, out)
}

// loadCPU opens a model and binds it to the CPU reference backend.
func loadCPU(path string) (model.Source, arch.Model, *ref.Backend, error) {
	src, err := model.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	be := ref.New()
	m, err := arch.Load(src, be)
	if err != nil {
		src.Close()
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return src, m, be, nil
}
