package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/doppler-engine/doppler/engine/model"
)

func init() {
	register(&command{
		name:    "inspect",
		summary: "show a model's architecture, hyper-parameters, tokenizer and tensors, and check them",
		run:     runInspect,
	})
}

type inspectTensor struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
	DType string  `json:"dtype"`
}

type inspectReport struct {
	Architecture string          `json:"architecture"`
	HParams      *model.Config   `json:"hparams"`
	Tokenizer    any             `json:"tokenizer"`
	Tensors      []inspectTensor `json:"tensors"`
	Params       int64           `json:"params"`
	Bytes        int64           `json:"bytes"`
	VocabOnly    bool            `json:"vocab_only,omitempty"`
	Valid        bool            `json:"valid"`
	Problems     []model.Problem `json:"problems"`
}

// runInspect prints the report. A model whose config and tensors disagree
// is still reported in full (valid false, every problem listed), then the
// command exits 1 with a sentence on stderr. A vocab-only GGUF is valid
// (vocab_only true): it serves tokenize, not generate.
func runInspect(fs *flag.FlagSet, args []string, out *output) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one MODEL (a .gguf file, an HF folder or a shard folder)")
	}
	src, err := model.OpenWith(pos[0], model.Options{NoValidate: true})
	if err != nil {
		return err
	}
	defer src.Close()
	cfg := src.Config()
	r := inspectReport{Architecture: cfg.Architecture, HParams: cfg, Tensors: []inspectTensor{}, Problems: []model.Problem{}}
	if ts := model.TokenizerSummary(src.Metadata()); ts != nil {
		r.Tokenizer = ts
	} else {
		r.Tokenizer = map[string]any{}
	}
	for _, t := range src.Tensors() {
		r.Tensors = append(r.Tensors, inspectTensor{Name: t.Name, Shape: t.Shape, DType: t.DType.String()})
		r.Params += t.Elements()
		if n, err := t.Bytes(); err == nil {
			r.Bytes += n
		}
	}
	r.VocabOnly = len(r.Tensors) == 0
	if !r.VocabOnly {
		if ps := model.Validate(cfg, src.Tensors()); len(ps) > 0 {
			r.Problems = ps
		}
	}
	r.Valid = len(r.Problems) == 0
	if err := out.Emit(r, func(w io.Writer) { printInspect(w, pos[0], &r) }); err != nil {
		return err
	}
	if !r.Valid {
		return fmt.Errorf("%s is not a valid model: %d problem(s), first: %s", pos[0], len(r.Problems), r.Problems[0].Message)
	}
	return nil
}

func printInspect(w io.Writer, name string, r *inspectReport) {
	c := r.HParams
	fmt.Fprintf(w, "%s\n  architecture  %s\n", name, r.Architecture)
	if r.VocabOnly {
		fmt.Fprintf(w, "  vocab-only file (no tensors)\n")
	} else {
		fmt.Fprintf(w, "  parameters    %d (%.1f MiB stored)\n", r.Params, float64(r.Bytes)/(1<<20))
		fmt.Fprintf(w, "  layers %d, hidden %d, heads %d/%d kv, head_dim %d, ffn %d, vocab %d, context %d\n",
			c.Layers, c.Hidden, c.Heads, c.KVHeads, c.HeadDim, c.FFN, c.VocabSize, c.ContextLength)
		fmt.Fprintf(w, "  rope %s theta %g", c.RopeStyle, c.RopeTheta)
		if c.RopeLocalTheta > 0 {
			fmt.Fprintf(w, " (sliding layers %g)", c.RopeLocalTheta)
		}
		if c.RopeFreqs {
			fmt.Fprintf(w, ", rope_freqs tensor")
		}
		fmt.Fprintf(w, ", activation %s, norm eps %g\n", c.Activation, c.NormEps)
		var feats []string
		if c.Experts > 0 {
			feats = append(feats, fmt.Sprintf("%d experts (%d used, ffn %d)", c.Experts, c.ExpertsUsed, c.ExpertFFN))
		}
		if c.SlidingWindow > 0 {
			n := 0
			for i := 0; i < c.Layers; i++ {
				if c.IsSliding(i) {
					n++
				}
			}
			feats = append(feats, fmt.Sprintf("sliding window %d on %d/%d layers", c.SlidingWindow, n, c.Layers))
		}
		if c.AttnSoftcap > 0 || c.FinalSoftcap > 0 {
			feats = append(feats, fmt.Sprintf("softcaps %g/%g", c.AttnSoftcap, c.FinalSoftcap))
		}
		for _, f := range []struct {
			on   bool
			name string
		}{{c.QKNorm, "q/k norm"}, {c.PostAttnNorm, "post-attention norm"}, {c.PostFFNNorm, "post-FFN norm"}, {c.TiedEmbeddings, "tied embeddings"}} {
			if f.on {
				feats = append(feats, f.name)
			}
		}
		if len(feats) > 0 {
			fmt.Fprintf(w, "  %s\n", strings.Join(feats, ", "))
		}
		counts := map[string]int{}
		var order []string
		for _, t := range r.Tensors {
			if counts[t.DType] == 0 {
				order = append(order, t.DType)
			}
			counts[t.DType]++
		}
		var parts []string
		for _, d := range order {
			parts = append(parts, fmt.Sprintf("%d %s", counts[d], d))
		}
		fmt.Fprintf(w, "  tensors       %d (%s)\n", len(r.Tensors), strings.Join(parts, ", "))
	}
	tok, _ := json.Marshal(r.Tokenizer)
	fmt.Fprintf(w, "  tokenizer     %s\n", tok)
	if r.Valid {
		fmt.Fprintf(w, "  valid\n")
		return
	}
	fmt.Fprintf(w, "  INVALID: %d problem(s)\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "    - %s\n", p.Message)
	}
}
