// Package synth writes random-weight GGUF models with real architectures'
// shapes, tokenizers and chat templates: test models for every code path
// (llama.cpp loads them too), deterministic for a seed on every platform.
//
// Weights: each tensor's values come from its own PCG stream keyed by the
// seed and the tensor's name; matrices are ~N(0, σ) with σ = 1/sqrt(fan-in)
// clamped to [0.02, 0.0625], so the residual stream and the logits keep unit
// scale; norm weights are 1 + N(0, 0.1) (stored as the effective multiplier,
// as llama.cpp's converter stores Gemma's 1 + w).
package synth

import (
	"bufio"
	"embed"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/quant"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// templates holds the chat templates of families the tokenizer package does
// not publish (Gemma, Qwen3): byte-identical to the models'
// tokenizer_config.json chat_template.
//
//go:embed templates/*.jinja
var templates embed.FS

// chatTemplate returns the text tokenizerFamily names.
func chatTemplate(name string) (string, error) {
	if !strings.HasSuffix(name, ".jinja") {
		return tokenizer.ReferenceTemplate(name)
	}
	b, err := templates.ReadFile("templates/" + name)
	return string(b), err
}

// Options choose what to write.
type Options struct {
	Arch  string // one of Archs; "" takes the shape's own architecture
	Shape string // "tiny" or a real shape (Shapes)
	DType string // "keep"/"" (F32) or a convert target (model.DTypeTargets)
	Seed  uint64
}

// Result describes a written file.
type Result struct {
	Bytes  int64 `json:"bytes"`
	Params int64 `json:"params"`
}

// tensorPlan is one tensor to generate.
type tensorPlan struct {
	info  model.TensorInfo
	kind  int // weightMatrix, weightNorm, weightRopeFreqs
	sigma float64
	mean  float64 // norms: values are mean * (1 + N(0, 0.1))
}

// Gemma's tied embeddings: the rms of the scaled input embeddings and the
// mean of output_norm (see plan).
const (
	embedScaledRMS  = 0.1
	gemmaOutputNorm = 8.0
)

const (
	weightMatrix = iota
	weightNorm
	weightRopeFreqs
)

// Config returns the Config that reading back a synth file with these
// options gives (Llama 3 scaling lives in the rope_freqs tensor, as in
// llama.cpp's files, so RopeScaling is nil there).
func Config(o Options) (*model.Config, error) {
	c, err := fullConfig(o)
	if err != nil {
		return nil, err
	}
	if c.RopeFreqs {
		c.RopeScaling = nil
	}
	return c, nil
}

func fullConfig(o Options) (*model.Config, error) {
	shape := o.Shape
	if shape == "" {
		shape = "tiny"
	}
	if shape == "tiny" && o.Arch == "" {
		return nil, fmt.Errorf("--shape tiny needs --arch (one of %s)", strings.Join(Archs, ", "))
	}
	return configFor(o.Arch, shape)
}

// Write generates the model into w.
func Write(w io.Writer, o Options) (*Result, error) {
	c, err := fullConfig(o)
	if err != nil {
		return nil, err
	}
	gw, params, err := build(c, o)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	n, err := gw.WriteTo(bw)
	if err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return &Result{Bytes: n, Params: params}, nil
}

// WriteFile generates the model into the file at path (via a temporary file).
func WriteFile(path string, o Options) (*Result, error) {
	tmp := path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	res, err := Write(f, o)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return res, os.Rename(tmp, path)
}

func build(c *model.Config, o Options) (*gguf.Writer, int64, error) {
	w := gguf.NewWriter()
	w.Set("general.architecture", model.GGUFArch(c.Architecture))
	w.Set("general.name", fmt.Sprintf("doppler-synth-%s-%s", c.Architecture, shapeName(o)))
	if err := model.SetGGUFHParams(w, c); err != nil {
		return nil, 0, err
	}
	family, tmplName := tokenizerFamily(c.Architecture)
	v, err := buildVocab(family, c.VocabSize)
	if err != nil {
		return nil, 0, err
	}
	tmpl, err := chatTemplate(tmplName)
	if err != nil {
		return nil, 0, err
	}
	setVocab(w, v)
	w.Set("tokenizer.chat_template", tmpl)

	plans := plan(c)
	var params int64
	for _, pl := range plans {
		if pl.kind != weightRopeFreqs { // derived from the config, not a parameter
			params += pl.info.Elements()
		}
		typ, err := model.TargetType(o.DType, pl.info, c.Layers)
		if err != nil {
			return nil, 0, err
		}
		if pl.kind != weightMatrix && typ != dtype.F32 {
			typ = dtype.F32
		}
		pl := pl
		if err := w.AddTensorFunc(pl.info.Name, pl.info.Shape, typ, func(dst io.Writer) error {
			return generate(dst, pl, c, o.Seed, typ)
		}); err != nil {
			return nil, 0, err
		}
	}
	return w, params, w.Err()
}

func shapeName(o Options) string {
	if o.Shape == "" {
		return "tiny"
	}
	return o.Shape
}

func setVocab(w *gguf.Writer, v *vocab) {
	w.Set("tokenizer.ggml.model", v.model)
	if v.pre != "" {
		w.Set("tokenizer.ggml.pre", v.pre)
	}
	w.Set("tokenizer.ggml.tokens", v.tokens)
	if v.scores != nil {
		w.Set("tokenizer.ggml.scores", v.scores)
	}
	w.Set("tokenizer.ggml.token_type", v.types)
	if v.model == "gpt2" { // llama.cpp requires the key for BPE vocabularies, even empty
		w.Set("tokenizer.ggml.merges", append([]string{}, v.merges...))
	}
	id := func(key string, i int) {
		if i >= 0 {
			w.Set(key, uint32(i))
		}
	}
	id("tokenizer.ggml.bos_token_id", v.bos)
	id("tokenizer.ggml.eos_token_id", v.eos)
	id("tokenizer.ggml.eot_token_id", v.eot)
	id("tokenizer.ggml.unknown_token_id", v.unk)
	id("tokenizer.ggml.padding_token_id", v.pad)
	w.Set("tokenizer.ggml.add_bos_token", v.addBOS)
	w.Set("tokenizer.ggml.add_eos_token", false)
	if v.model == "llama" {
		w.Set("tokenizer.ggml.add_space_prefix", v.addSpacePrefix)
	}
}

// plan lists the tensors in llama.cpp's converter order with their scales.
func plan(c *model.Config) []tensorPlan {
	var out []tensorPlan
	for _, t := range model.ExpectedTensors(c) {
		pl := tensorPlan{info: t, kind: weightMatrix}
		switch {
		case t.Name == "rope_freqs.weight":
			pl.kind = weightRopeFreqs
		case len(t.Shape) == 1:
			pl.kind, pl.mean = weightNorm, 1
			if t.Name == "output_norm.weight" && c.EmbedScale > 0 {
				pl.mean = gemmaOutputNorm
			}
		default:
			pl.sigma = math.Min(0.0625, math.Max(0.02, 1/math.Sqrt(float64(t.Shape[0]))))
			if t.Name == "token_embd.weight" && c.EmbedScale > 0 {
				// Gemma multiplies embeddings by sqrt(hidden) and ties the
				// head: full-scale embeddings would make every token predict
				// itself. Small inputs (rms embedScaledRMS) let the layers
				// decide, and a larger final norm (gemmaOutputNorm) gives the
				// logits unit scale again.
				pl.sigma = embedScaledRMS / c.EmbedScale
			}
		}
		out = append(out, pl)
	}
	return out
}

// generate writes one tensor's values in type typ, a chunk of rows at a
// time so that even embedding tables never sit whole in memory as float32.
func generate(dst io.Writer, pl tensorPlan, c *model.Config, seed uint64, typ dtype.DType) error {
	if pl.kind == weightRopeFreqs {
		_, err := dst.Write(model.Llama3RopeFreqs(c))
		return err
	}
	r := newRNG(seed, fnv64(pl.info.Name))
	rowLen := pl.info.Shape[0]
	rows := pl.info.Elements() / rowLen
	chunkRows := max(1, (1<<20)/rowLen)
	buf := make([]float32, 0, chunkRows*rowLen)
	for done := int64(0); done < rows; {
		n := min(chunkRows, rows-done)
		buf = buf[:n*rowLen]
		for i := range buf {
			if pl.kind == weightNorm {
				// The conversion forbids fusing into a multiply-add (arm64
				// would round differently).
				buf[i] = float32(pl.mean * float64(1+float64(0.1*r.normal())))
			} else {
				buf[i] = float32(pl.sigma * r.normal())
			}
		}
		var out []byte
		if typ == dtype.F32 {
			out = make([]byte, 4*len(buf))
			for i, x := range buf {
				binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
			}
		} else {
			var err error
			if out, err = quant.Quantize(typ, buf); err != nil {
				return fmt.Errorf("tensor %s: %w", pl.info.Name, err)
			}
		}
		if _, err := dst.Write(out); err != nil {
			return err
		}
		done += n
	}
	return nil
}
