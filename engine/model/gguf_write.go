package model

import (
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/doppler-engine/doppler/engine/gguf"
)

// SetGGUFHParams writes c as llama.cpp's GGUF hyper-parameter keys, so that
// ConfigFromGGUF (and llama.cpp) read c back. Values llama.cpp derives
// itself (embedding scale, activation, RoPE style) are not written; values
// it hard-codes are written only where c differs (sliding pattern,
// sliding-layer RoPE base, attention scale), under keys newer llama.cpp
// versions read.
func SetGGUFHParams(w *gguf.Writer, c *Config) error {
	if c.RopeScaling != nil && c.RopeScaling.Type == "llama3" && !c.RopeFreqs {
		return fmt.Errorf("llama3 rope scaling needs the rope_freqs.weight tensor")
	}
	arch := GGUFArch(c.Architecture)
	p := arch + "."
	u := func(v int) uint32 { return uint32(v) }
	w.Set("general.architecture", arch)
	w.Set(p+"context_length", u(c.ContextLength))
	w.Set(p+"embedding_length", u(c.Hidden))
	w.Set(p+"block_count", u(c.Layers))
	w.Set(p+"feed_forward_length", u(c.FFN))
	w.Set(p+"attention.head_count", u(c.Heads))
	w.Set(p+"attention.head_count_kv", u(c.KVHeads))
	w.Set(p+"attention.key_length", u(c.HeadDim))
	w.Set(p+"attention.value_length", u(c.HeadDim))
	w.Set(p+"attention.layer_norm_rms_epsilon", float32(c.NormEps))
	w.Set(p+"rope.freq_base", float32(c.RopeTheta))
	w.Set(p+"rope.dimension_count", u(c.RopeDim))
	w.Set(p+"vocab_size", u(c.VocabSize))
	if c.RopeScaling != nil && c.RopeScaling.Type == "linear" {
		w.Set(p+"rope.scaling.type", "linear")
		w.Set(p+"rope.scaling.factor", float32(c.RopeScaling.Factor))
		if c.RopeScaling.OriginalContextLen > 0 {
			w.Set(p+"rope.scaling.original_context_length", u(c.RopeScaling.OriginalContextLen))
		}
	}
	if c.SlidingWindow > 0 && slices.Contains(c.Sliding, true) {
		w.Set(p+"attention.sliding_window", u(c.SlidingWindow))
		period := map[string]int{ArchGemma2: 2, ArchGemma3: 6}[c.Architecture]
		def := make([]bool, c.Layers)
		for i := range def {
			def[i] = period > 0 && i%period < period-1
		}
		if !slices.Equal(def, c.Sliding) {
			w.Set(p+"attention.sliding_window_pattern", slices.Clone(c.Sliding))
		}
		if c.Architecture == ArchGemma3 && c.RopeLocalTheta != 10000 {
			w.Set(p+"rope.freq_base_swa", float32(c.RopeLocalTheta))
		}
	}
	switch c.Architecture {
	case ArchGemma2:
		w.Set(p+"attn_logit_softcapping", float32(c.AttnSoftcap))
		w.Set(p+"final_logit_softcapping", float32(c.FinalSoftcap))
	case ArchGemma3:
		if c.FinalSoftcap > 0 {
			w.Set(p+"final_logit_softcapping", float32(c.FinalSoftcap))
		}
	}
	if c.AttnScale != 0 {
		derived := 0.0
		switch c.Architecture {
		case ArchGemma2:
			derived = gemmaAttnScale(c, 46)
		case ArchGemma3:
			derived = gemmaAttnScale(c, 62)
		}
		if c.AttnScale != derived {
			w.Set(p+"attention.scale", float32(c.AttnScale))
		}
	}
	if c.Experts > 0 {
		w.Set(p+"expert_count", u(c.Experts))
		w.Set(p+"expert_used_count", u(c.ExpertsUsed))
		if c.Architecture == ArchQwen3MoE {
			w.Set(p+"expert_feed_forward_length", u(c.ExpertFFN))
			w.Set(p+"expert_weights_norm", c.NormTopKProb)
		}
	}
	return nil
}

// WriteGGUF writes src as a GGUF file: its metadata (tokenizer, general.*),
// its hyper-parameters and its tensors, read one at a time while writing.
func WriteGGUF(src Source, dst io.Writer) (int64, error) {
	w := gguf.NewWriter()
	md := src.Metadata()
	keys := make([]string, 0, len(md))
	for k := range md {
		if k != gguf.AlignmentKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.Set(k, md[k])
	}
	if err := SetGGUFHParams(w, src.Config()); err != nil {
		return 0, err
	}
	for _, t := range src.Tensors() {
		name := t.Name
		if err := w.AddTensorFunc(name, t.Shape, t.DType, func(dst io.Writer) error {
			b, err := src.ReadTensor(name)
			if err != nil {
				return err
			}
			_, err = dst.Write(b)
			return err
		}); err != nil {
			return 0, err
		}
	}
	return w.WriteTo(dst)
}
