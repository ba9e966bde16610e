package quant

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/doppler-engine/doppler/engine/dtype"
)

// MixModel is what llama.cpp's per-tensor type rules need to know about the
// whole model besides one tensor's name and shape.
type MixModel struct {
	Layers int // block count
	// Experts is the number of experts per MoE layer (0 or 1: dense). llama.cpp
	// gives 8-expert models (Mixtral) Q8_0 attn_k/attn_v and Q5_K attn_output.
	Experts int
	// TiedEmbeddings: the model has no output.weight and token_embd doubles as
	// the output projection, so token_embd gets the output tensor's type.
	TiedEmbeddings bool
}

// NewMixModel describes a model from its block and expert counts and the
// names of all its tensors (llama.cpp counts embeddings as tied when no
// output.weight exists).
func NewMixModel(layers, experts int, tensorNames []string) MixModel {
	return MixModel{Layers: layers, Experts: experts, TiedEmbeddings: !slices.Contains(tensorNames, "output.weight")}
}

// MixType returns the type llama.cpp's mix (q4_k_m or q5_k_m) gives the
// tensor name with ggml shape, in a dense model of layers blocks that has its
// own output.weight. Use MixTypeFor for tied embeddings or MoE models.
func MixType(mix string, name string, shape []int64, layers int) (dtype.DType, error) {
	return MixTypeFor(mix, name, shape, MixModel{Layers: layers})
}

// MixTypeFor is MixType with full model information. It follows llama.cpp's
// llama_tensor_get_type for LLAMA_FTYPE_MOSTLY_Q4_K_M / Q5_K_M:
//   - tensors llama.cpp never quantizes (1-D, norms, biases, MoE routers, ...)
//     stay F32;
//   - output.weight, and token_embd.weight when embeddings are tied: Q6_K, or
//     Q8_0 when the row length is not a multiple of 256;
//   - attn_v (and fused attn_qkv) and ffn_down of the layers use_more_bits
//     picks (the first and last eighth, and every third one between): Q6_K;
//   - 8-expert models: attn_k and attn_v Q8_0, attn_output Q5_K;
//   - everything else the mix's base type (Q4_K or Q5_K);
//
// then the shape fallback of fallbackType. Architecture special cases for
// Falcon and 70B llamas are not reproduced (we support neither). Tests check
// the choices against llama.cpp's own llama_model_quantize
// (testdata/llamacpp/mix_*.txt).
func MixTypeFor(mix string, name string, shape []int64, m MixModel) (dtype.DType, error) {
	var base dtype.DType
	switch strings.ToLower(mix) {
	case "q4_k_m":
		base = dtype.Q4_K
	case "q5_k_m":
		base = dtype.Q5_K
	default:
		return 0, fmt.Errorf("quant: unknown quantization mix %q (want q4_k_m or q5_k_m)", mix)
	}
	if err := checkShape(name, shape); err != nil {
		return 0, err
	}
	if !quantizable(name, shape) {
		return dtype.F32, nil
	}
	t := base
	cat := category(name)
	layer := func() (int, error) {
		l, ok := layerOf(name)
		if !ok || l >= m.Layers {
			return 0, fmt.Errorf("quant: cannot tell which of %d layers tensor %q belongs to", m.Layers, name)
		}
		return l, nil
	}
	switch {
	case cat == catOutput || (cat == catTokenEmbd && m.TiedEmbeddings):
		if shape[0]%int64(base.BlockSize()) != 0 {
			t = dtype.Q8_0
		} else {
			t = dtype.Q6_K
		}
	case cat == catTokenEmbd:
		// Untied token embeddings keep the base type.
	case cat == catAttnV:
		l, err := layer()
		if err != nil {
			return 0, err
		}
		if useMoreBits(l, m.Layers) {
			t = dtype.Q6_K
		}
		if m.Experts == 8 {
			t = dtype.Q8_0
		}
	case cat == catAttnK:
		if m.Experts == 8 {
			t = dtype.Q8_0
		}
	case cat == catFFNDown:
		l, err := layer()
		if err != nil {
			return 0, err
		}
		if useMoreBits(l, m.Layers) {
			t = dtype.Q6_K
		}
	case cat == catAttnOutput:
		if m.Experts == 8 && base == dtype.Q4_K {
			t = dtype.Q5_K
		}
	}
	return fallbackType(t, shape[0]), nil
}

// ChooseType returns the type convert --dtype target gives a tensor. target
// is one of f32 f16 bf16 q8_0 q4_0 q4_k q5_k q6_k (applied to every tensor
// llama.cpp would quantize, like llama-quantize --pure, with the shape
// fallback) or a mix (q4_k_m, q5_k_m: see MixType). "keep" is the caller's.
func ChooseType(target string, name string, shape []int64, layers int) (dtype.DType, error) {
	return ChooseTypeFor(target, name, shape, MixModel{Layers: layers})
}

// ChooseTypeFor is ChooseType with full model information (used by mixes).
func ChooseTypeFor(target string, name string, shape []int64, m MixModel) (dtype.DType, error) {
	tl := strings.ToLower(strings.TrimSpace(target))
	if strings.HasSuffix(tl, "_m") {
		return MixTypeFor(tl, name, shape, m)
	}
	var t dtype.DType
	switch tl {
	case "f32":
		t = dtype.F32
	case "f16":
		t = dtype.F16
	case "bf16":
		t = dtype.BF16
	case "q8_0":
		t = dtype.Q8_0
	case "q4_0":
		t = dtype.Q4_0
	case "q4_k":
		t = dtype.Q4_K
	case "q5_k":
		t = dtype.Q5_K
	case "q6_k":
		t = dtype.Q6_K
	default:
		return 0, fmt.Errorf("quant: unknown target type %q (want f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k, q4_k_m or q5_k_m)", target)
	}
	if err := checkShape(name, shape); err != nil {
		return 0, err
	}
	if !quantizable(name, shape) {
		return dtype.F32, nil
	}
	return fallbackType(t, shape[0]), nil
}

// fallbackType is llama.cpp's tensor_type_fallback: when the row length is
// not a multiple of t's block size, K-quants fall back to a 32-block type of
// similar size (Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0), and anything still
// incompatible (rows not a multiple of 32) to F16. (llama.cpp refuses
// 32-block targets on such rows; F16 is its own last resort.)
func fallbackType(t dtype.DType, ncols int64) dtype.DType {
	if ncols%int64(t.BlockSize()) == 0 {
		return t
	}
	switch t {
	case dtype.Q4_K:
		t = dtype.Q5_0
	case dtype.Q5_K:
		t = dtype.Q5_1
	case dtype.Q6_K:
		t = dtype.Q8_0
	}
	if ncols%int64(t.BlockSize()) != 0 {
		return dtype.F16
	}
	return t
}

func checkShape(name string, shape []int64) error {
	if len(shape) == 0 {
		return fmt.Errorf("quant: tensor %q has no shape", name)
	}
	for _, d := range shape {
		if d <= 0 {
			return fmt.Errorf("quant: tensor %q has shape %v; every dimension must be positive", name, shape)
		}
	}
	return nil
}

// quantizable mirrors llama.cpp's tensor_allows_quantization for the tensor
// names our architectures use: only weights of two or more dimensions (ggml
// counts dimensions up to the last one larger than 1), never norms, MoE
// router weights or position/token-type embeddings.
func quantizable(name string, shape []int64) bool {
	dims := len(shape)
	for dims > 1 && shape[dims-1] == 1 {
		dims--
	}
	if dims < 2 || !strings.HasSuffix(name, "weight") {
		return false
	}
	for _, s := range []string{"_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d", "attn_rel_b.weight"} {
		if strings.Contains(name, s) {
			return false
		}
	}
	return name != "position_embd.weight" && name != "token_types.weight"
}

type tensorCategory int

const (
	catOther tensorCategory = iota
	catTokenEmbd
	catOutput
	catAttnV // attn_v, fused attn_qkv and attn_kv_b: llama.cpp treats them alike
	catAttnK
	catAttnOutput
	catFFNDown
)

// category mirrors llama.cpp's tensor_get_category (substring matches, in
// its order).
func category(name string) tensorCategory {
	switch {
	case name == "output.weight":
		return catOutput
	case name == "token_embd.weight" || name == "per_layer_token_embd.weight":
		return catTokenEmbd
	case strings.Contains(name, "attn_qkv.weight"), strings.Contains(name, "attn_kv_b.weight"), strings.Contains(name, "attn_v.weight"):
		return catAttnV
	case strings.Contains(name, "attn_k.weight"):
		return catAttnK
	case strings.Contains(name, "attn_q.weight"):
		return catOther
	case strings.Contains(name, "attn_output.weight"):
		return catAttnOutput
	case strings.Contains(name, "ffn_up"), strings.Contains(name, "ffn_gate"):
		return catOther
	case strings.Contains(name, "ffn_down"):
		return catFFNDown
	}
	return catOther
}

// layerOf parses the block index of "blk.N.…".
func layerOf(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	return n, err == nil && n >= 0
}

// useMoreBits is llama.cpp's rule for which layers get more bits: the first
// and last eighth of the layers and every third layer in between.
func useMoreBits(layer, layers int) bool {
	return layer < layers/8 || layer >= 7*layers/8 || (layer-layers/8)%3 == 2
}
