package model

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Problem is one disagreement between a Config and the tensors present.
type Problem struct {
	Tensor  string `json:"tensor,omitempty"` // the tensor concerned, if any
	Flag    string `json:"flag,omitempty"`   // the Config field (JSON name) concerned, if any
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Message }

// InvalidError is returned by Open when the config and tensors disagree.
type InvalidError struct {
	Source   string
	Problems []Problem
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the model's config disagrees with its tensors (%d problem(s)): ", e.Source, len(e.Problems))
	for i, p := range e.Problems {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-5)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Message)
	}
	b.WriteString(" (re-convert the model from its original files; `doppler inspect` lists every problem)")
	return b.String()
}

// Flag names as they appear in Config's JSON.
const (
	FlagQKNorm       = "qk_norm"
	FlagPostAttnNorm = "post_attn_norm"
	FlagPostFFNNorm  = "post_ffn_norm"
	FlagTied         = "tied_embeddings"
	FlagExperts      = "num_experts"
	FlagRopeFreqs    = "rope_freqs"
)

// flagTensors maps a per-layer tensor suffix to the flag that requires it.
var flagTensors = map[string]string{
	"attn_q_norm.weight":         FlagQKNorm,
	"attn_k_norm.weight":         FlagQKNorm,
	"post_attention_norm.weight": FlagPostAttnNorm,
	"post_ffw_norm.weight":       FlagPostFFNNorm,
	"ffn_gate_inp.weight":        FlagExperts,
	"ffn_gate_exps.weight":       FlagExperts,
	"ffn_up_exps.weight":         FlagExperts,
	"ffn_down_exps.weight":       FlagExperts,
}

// DeriveFlags sets the flags that the tensor names decide: q/k norms,
// sandwich norms, tied embeddings and the Llama 3 rope_freqs tensor.
func DeriveFlags(c *Config, tensors []TensorInfo) {
	c.QKNorm, c.PostAttnNorm, c.PostFFNNorm, c.RopeFreqs = false, false, false, false
	hasOutput := false
	for _, t := range tensors {
		_, suffix, ok := splitLayer(t.Name)
		switch {
		case t.Name == "output.weight":
			hasOutput = true
		case t.Name == "rope_freqs.weight":
			c.RopeFreqs = true
		case ok && (suffix == "attn_q_norm.weight" || suffix == "attn_k_norm.weight"):
			c.QKNorm = true
		case ok && suffix == "post_attention_norm.weight":
			c.PostAttnNorm = true
		case ok && suffix == "post_ffw_norm.weight":
			c.PostFFNNorm = true
		}
	}
	c.TiedEmbeddings = !hasOutput
}

// splitLayer splits "blk.3.attn_q.weight" into 3 and "attn_q.weight".
func splitLayer(name string) (int, string, bool) {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return 0, "", false
	}
	num, suffix, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, "", false
	}
	return n, suffix, true
}

// ExpectedTensors lists every tensor the config implies, with its ggml shape.
func ExpectedTensors(c *Config) []TensorInfo {
	h, hd := int64(c.Hidden), int64(c.HeadDim)
	q, kv := int64(c.Heads)*hd, int64(c.KVHeads)*hd
	out := []TensorInfo{{Name: "token_embd.weight", Shape: []int64{h, int64(c.VocabSize)}}}
	if c.RopeFreqs {
		out = append(out, TensorInfo{Name: "rope_freqs.weight", Shape: []int64{int64(c.RopeDim / 2)}})
	}
	for i := 0; i < c.Layers; i++ {
		add := func(suffix string, shape ...int64) {
			out = append(out, TensorInfo{Name: fmt.Sprintf("blk.%d.%s", i, suffix), Shape: shape})
		}
		add("attn_norm.weight", h)
		add("attn_q.weight", h, q)
		add("attn_k.weight", h, kv)
		add("attn_v.weight", h, kv)
		add("attn_output.weight", q, h)
		if c.QKNorm {
			add("attn_q_norm.weight", hd)
			add("attn_k_norm.weight", hd)
		}
		if c.PostAttnNorm {
			add("post_attention_norm.weight", h)
		}
		add("ffn_norm.weight", h)
		if c.Experts > 0 {
			e, ff := int64(c.Experts), int64(c.ExpertFFN)
			if ff == 0 {
				ff = int64(c.FFN)
			}
			add("ffn_gate_inp.weight", h, e)
			add("ffn_gate_exps.weight", h, ff, e)
			add("ffn_up_exps.weight", h, ff, e)
			add("ffn_down_exps.weight", ff, h, e)
		} else {
			ff := int64(c.FFN)
			add("ffn_gate.weight", h, ff)
			add("ffn_up.weight", h, ff)
			add("ffn_down.weight", ff, h)
		}
		if c.PostFFNNorm {
			add("post_ffw_norm.weight", h)
		}
	}
	out = append(out, TensorInfo{Name: "output_norm.weight", Shape: []int64{h}})
	if !c.TiedEmbeddings {
		out = append(out, TensorInfo{Name: "output.weight", Shape: []int64{h, int64(c.VocabSize)}})
	}
	return out
}

// Validate checks the config's own values and that the tensors are exactly
// those the config implies, with the right shapes. Each problem names the
// tensor and, where a flag decides whether the tensor exists, the flag.
func Validate(c *Config, tensors []TensorInfo) []Problem {
	var ps []Problem
	bad := func(flag, format string, a ...any) {
		ps = append(ps, Problem{Flag: flag, Message: fmt.Sprintf(format, a...)})
	}
	switch c.Architecture {
	case ArchLlama, ArchGemma, ArchGemma2, ArchGemma3, ArchQwen3, ArchMixtral, ArchQwen3MoE:
	default:
		bad("architecture", "unsupported architecture %q", c.Architecture)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"hidden_size", c.Hidden}, {"num_layers", c.Layers}, {"num_heads", c.Heads}, {"num_kv_heads", c.KVHeads}, {"head_dim", c.HeadDim}, {"vocab_size", c.VocabSize}} {
		if f.v <= 0 {
			bad(f.name, "%s is %d, must be positive", f.name, f.v)
		}
	}
	if len(ps) > 0 {
		return ps // shapes below would be meaningless
	}
	if c.Heads%c.KVHeads != 0 {
		bad("num_kv_heads", "num_heads %d is not a multiple of num_kv_heads %d", c.Heads, c.KVHeads)
	}
	if c.RopeDim <= 0 || c.RopeDim > c.HeadDim || c.RopeDim%2 != 0 {
		bad("rope_dim", "rope_dim %d must be even and within head_dim %d", c.RopeDim, c.HeadDim)
	}
	if c.Sliding != nil && len(c.Sliding) != c.Layers {
		bad("sliding_layers", "sliding_layers has %d entries for %d layers", len(c.Sliding), c.Layers)
	}
	if slices.Contains(c.Sliding, true) && c.SlidingWindow <= 0 {
		bad("sliding_window", "sliding layers are set but sliding_window is %d", c.SlidingWindow)
	}
	if c.Experts > 0 && (c.ExpertsUsed <= 0 || c.ExpertsUsed > c.Experts) {
		bad("num_experts_used", "num_experts_used %d must be in 1..num_experts %d", c.ExpertsUsed, c.Experts)
	}
	if c.Experts == 0 && c.FFN <= 0 {
		bad("ffn_size", "ffn_size is %d, must be positive", c.FFN)
	}
	if c.Activation != "silu" && c.Activation != "gelu_tanh" {
		bad("activation", "activation %q is not silu or gelu_tanh", c.Activation)
	}
	if c.RopeStyle != RopeNormal && c.RopeStyle != RopeNeoX {
		bad("rope_style", "rope_style %q is not normal or neox", c.RopeStyle)
	}

	want := ExpectedTensors(c)
	wantByName := make(map[string]TensorInfo, len(want))
	for _, t := range want {
		wantByName[t.Name] = t
	}
	have := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		if have[t.Name] {
			ps = append(ps, Problem{Tensor: t.Name, Message: fmt.Sprintf("tensor %s appears twice", t.Name)})
			continue
		}
		have[t.Name] = true
		w, ok := wantByName[t.Name]
		if !ok {
			ps = append(ps, unexpected(c, t.Name))
			continue
		}
		if !slices.Equal(w.Shape, t.Shape) {
			ps = append(ps, Problem{Tensor: t.Name, Message: fmt.Sprintf("tensor %s has shape %v, the config implies %v", t.Name, t.Shape, w.Shape)})
		}
		if _, err := t.Bytes(); err != nil {
			ps = append(ps, Problem{Tensor: t.Name, Message: fmt.Sprintf("tensor %s: %v", t.Name, err)})
		}
	}
	for _, w := range want {
		if have[w.Name] {
			continue
		}
		p := Problem{Tensor: w.Name, Message: fmt.Sprintf("tensor %s (shape %v) is missing", w.Name, w.Shape)}
		if flag := flagOf(w.Name); flag != "" {
			p.Flag = flag
			p.Message = fmt.Sprintf("tensor %s (shape %v) is missing but the config sets %s", w.Name, w.Shape, flagDesc(c, flag))
		}
		ps = append(ps, p)
	}
	return ps
}

// flagOf returns the flag deciding whether the named tensor exists.
func flagOf(name string) string {
	switch name {
	case "output.weight":
		return FlagTied
	case "rope_freqs.weight":
		return FlagRopeFreqs
	}
	if _, suffix, ok := splitLayer(name); ok {
		return flagTensors[suffix]
	}
	return ""
}

func flagDesc(c *Config, flag string) string {
	switch flag {
	case FlagQKNorm:
		return fmt.Sprintf("%s %v", flag, c.QKNorm)
	case FlagPostAttnNorm:
		return fmt.Sprintf("%s %v", flag, c.PostAttnNorm)
	case FlagPostFFNNorm:
		return fmt.Sprintf("%s %v", flag, c.PostFFNNorm)
	case FlagTied:
		return fmt.Sprintf("%s %v", flag, c.TiedEmbeddings)
	case FlagRopeFreqs:
		return fmt.Sprintf("%s %v", flag, c.RopeFreqs)
	case FlagExperts:
		return fmt.Sprintf("%s %d", flag, c.Experts)
	}
	return flag
}

// unexpected explains a tensor the config does not imply, naming the flag
// that would have to be set for it to belong.
func unexpected(c *Config, name string) Problem {
	p := Problem{Tensor: name}
	layer, suffix, isLayer := splitLayer(name)
	switch flag := flagOf(name); {
	case isLayer && layer >= c.Layers:
		p.Flag = "num_layers"
		p.Message = fmt.Sprintf("tensor %s belongs to layer %d but the config has num_layers %d", name, layer, c.Layers)
	case flag != "":
		p.Flag = flag
		p.Message = fmt.Sprintf("tensor %s exists but the config sets %s", name, flagDesc(c, flag))
	case isLayer && c.Experts > 0 && (suffix == "ffn_gate.weight" || suffix == "ffn_up.weight" || suffix == "ffn_down.weight"):
		p.Flag = FlagExperts
		p.Message = fmt.Sprintf("tensor %s is a dense FFN weight but the config sets %s", name, flagDesc(c, FlagExperts))
	default:
		p.Message = fmt.Sprintf("tensor %s is not part of a %s model", name, c.Architecture)
	}
	return p
}
