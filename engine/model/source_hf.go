package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/quant"
	"github.com/doppler-engine/doppler/engine/safetensors"
	"github.com/hack-pad/hackpadfs"
)

// transform says how an HF tensor's bytes become the canonical ones.
type transform int

const (
	asIs      transform = iota
	permuteQK           // llama/mixtral Q, K: rows to llama.cpp's "normal" RoPE order
	addOne              // Gemma norms: 1 + w, stored as F32
	toF32               // other 1-D tensors (norms) in F16/BF16: widened to F32 exactly
	ropeFreqs           // synthesized Llama 3 rope_freqs.weight
)

// hfTensor is one canonical tensor built from one or more safetensors tensors
// (several for stacked MoE experts, concatenated in expert order).
type hfTensor struct {
	info  TensorInfo
	parts []safetensors.Tensor
	xf    transform
	heads int // permuteQK: heads of this projection
}

type hfSource struct {
	folder  *safetensors.Folder
	cfg     *Config
	tensors []TensorInfo
	byName  map[string]*hfTensor
	meta    map[string]any
}

// OpenHF opens an HF model whose config.json (and tokenizer files) are in
// configDir and whose *.safetensors are in weightsDir (usually the same).
func OpenHF(fsys hackpadfs.FS, configDir, weightsDir string, o Options) (Source, error) {
	data, err := hackpadfs.ReadFile(fsys, path.Join(configDir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("open HF model: %w", err)
	}
	cfg, err := ConfigFromHF(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", configDir, err)
	}
	folder, err := safetensors.OpenFolder(fsys, weightsDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", weightsDir, err)
	}
	if len(folder.Tensors) == 0 {
		return nil, fmt.Errorf("%s: no *.safetensors weights found", weightsDir)
	}
	s := &hfSource{folder: folder, cfg: cfg, byName: map[string]*hfTensor{}}
	if err := s.mapTensors(); err != nil {
		return nil, fmt.Errorf("%s: %w", weightsDir, err)
	}
	meta, err := hfMetadata(fsys, configDir, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", configDir, err)
	}
	s.meta = meta
	return finish(s, configDir, o)
}

// hfName maps an HF tensor name to its GGUF name; expert >= 0 for one
// expert's slice of a stacked tensor.
func hfName(arch, name string) (gg string, expert int, err error) {
	switch name {
	case "model.embed_tokens.weight":
		return "token_embd.weight", -1, nil
	case "model.norm.weight":
		return "output_norm.weight", -1, nil
	case "lm_head.weight":
		return "output.weight", -1, nil
	}
	rest, ok := strings.CutPrefix(name, "model.layers.")
	if !ok {
		return "", 0, fmt.Errorf("unsupported tensor %s", name)
	}
	num, suffix, _ := strings.Cut(rest, ".")
	layer, err := strconv.Atoi(num)
	if err != nil {
		return "", 0, fmt.Errorf("unsupported tensor %s", name)
	}
	blk := func(s string) string { return fmt.Sprintf("blk.%d.%s", layer, s) }
	sandwich := arch == ArchGemma2 || arch == ArchGemma3
	simple := map[string]string{
		"input_layernorm.weight":            "attn_norm.weight",
		"self_attn.q_proj.weight":           "attn_q.weight",
		"self_attn.k_proj.weight":           "attn_k.weight",
		"self_attn.v_proj.weight":           "attn_v.weight",
		"self_attn.o_proj.weight":           "attn_output.weight",
		"self_attn.q_norm.weight":           "attn_q_norm.weight",
		"self_attn.k_norm.weight":           "attn_k_norm.weight",
		"pre_feedforward_layernorm.weight":  "ffn_norm.weight",
		"post_feedforward_layernorm.weight": "post_ffw_norm.weight",
		"mlp.gate_proj.weight":              "ffn_gate.weight",
		"mlp.up_proj.weight":                "ffn_up.weight",
		"mlp.down_proj.weight":              "ffn_down.weight",
		"mlp.gate.weight":                   "ffn_gate_inp.weight",
		"block_sparse_moe.gate.weight":      "ffn_gate_inp.weight",
	}
	if suffix == "post_attention_layernorm.weight" {
		if sandwich {
			return blk("post_attention_norm.weight"), -1, nil
		}
		return blk("ffn_norm.weight"), -1, nil
	}
	if g, ok := simple[suffix]; ok {
		return blk(g), -1, nil
	}
	// Per-expert weights: mlp.experts.E.{gate,up,down}_proj (Qwen3-MoE) and
	// block_sparse_moe.experts.E.w{1,3,2} (Mixtral).
	for _, prefix := range []string{"mlp.experts.", "block_sparse_moe.experts."} {
		r, ok := strings.CutPrefix(suffix, prefix)
		if !ok {
			continue
		}
		en, w, _ := strings.Cut(r, ".")
		e, err := strconv.Atoi(en)
		if err != nil {
			break
		}
		switch w {
		case "gate_proj.weight", "w1.weight":
			return blk("ffn_gate_exps.weight"), e, nil
		case "up_proj.weight", "w3.weight":
			return blk("ffn_up_exps.weight"), e, nil
		case "down_proj.weight", "w2.weight":
			return blk("ffn_down_exps.weight"), e, nil
		}
	}
	return "", 0, fmt.Errorf("unsupported tensor %s", name)
}

func hfDType(s string) (dtype.DType, error) {
	switch s {
	case "F32":
		return dtype.F32, nil
	case "F16":
		return dtype.F16, nil
	case "BF16":
		return dtype.BF16, nil
	}
	return 0, fmt.Errorf("safetensors dtype %s is not supported (F32, F16, BF16)", s)
}

func reversed(s []int64) []int64 {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func (s *hfSource) mapTensors() error {
	c := s.cfg
	gemma := c.Architecture == ArchGemma || c.Architecture == ArchGemma2 || c.Architecture == ArchGemma3
	experts := map[string]map[int]safetensors.Tensor{}
	for _, st := range s.folder.Tensors {
		if strings.HasSuffix(st.Name, "rotary_emb.inv_freq") {
			continue // old checkpoints store RoPE frequencies: derived from the config
		}
		name, e, err := hfName(c.Architecture, st.Name)
		if err != nil {
			return err
		}
		dt, err := hfDType(st.DType)
		if err != nil {
			return fmt.Errorf("tensor %s: %w", st.Name, err)
		}
		if e >= 0 {
			if experts[name] == nil {
				experts[name] = map[int]safetensors.Tensor{}
			}
			if _, dup := experts[name][e]; dup {
				return fmt.Errorf("expert %d of %s appears twice", e, name)
			}
			experts[name][e] = st
			continue
		}
		if _, dup := s.byName[name]; dup {
			return fmt.Errorf("tensors map to %s twice (last: %s)", name, st.Name)
		}
		t := &hfTensor{info: TensorInfo{Name: name, Shape: reversed(st.Shape), DType: dt}, parts: []safetensors.Tensor{st}}
		_, suffix, _ := splitLayer(name)
		switch {
		case gemma && strings.HasSuffix(name, "norm.weight"):
			t.xf, t.info.DType = addOne, dtype.F32
		case len(t.info.Shape) == 1 && dt != dtype.F32:
			// llama.cpp keeps 1-D tensors in F32 (its CPU backend cannot
			// multiply by an F16 norm); widening is exact.
			t.xf, t.info.DType = toF32, dtype.F32
		case c.RopeStyle == RopeNormal && suffix == "attn_q.weight":
			t.xf, t.heads = permuteQK, c.Heads
		case c.RopeStyle == RopeNormal && suffix == "attn_k.weight":
			t.xf, t.heads = permuteQK, c.KVHeads
		}
		s.byName[name] = t
	}
	for name, parts := range experts {
		n := len(parts)
		t := &hfTensor{}
		for e := 0; e < n; e++ {
			st, ok := parts[e]
			if !ok {
				return fmt.Errorf("%s: expert %d of %d is missing", name, e, n)
			}
			if e > 0 && (!slices.Equal(st.Shape, t.parts[0].Shape) || st.DType != t.parts[0].DType) {
				return fmt.Errorf("%s: expert %d has %s %v, expert 0 %s %v", name, e, st.DType, st.Shape, t.parts[0].DType, t.parts[0].Shape)
			}
			t.parts = append(t.parts, st)
		}
		dt, _ := hfDType(t.parts[0].DType)
		t.info = TensorInfo{Name: name, Shape: append(reversed(t.parts[0].Shape), int64(n)), DType: dt}
		s.byName[name] = t
	}
	if _, ok := s.byName["output.weight"]; !ok {
		c.TiedEmbeddings = true
	} else if c.TiedEmbeddings {
		// The config ties, so transformers ignores a stored lm_head: so do we.
		delete(s.byName, "output.weight")
	}
	if c.RopeScaling != nil && c.RopeScaling.Type == "llama3" {
		s.byName["rope_freqs.weight"] = &hfTensor{info: TensorInfo{Name: "rope_freqs.weight", Shape: []int64{int64(c.RopeDim / 2)}, DType: dtype.F32}, xf: ropeFreqs}
	}
	for _, t := range s.byName {
		s.tensors = append(s.tensors, t.info)
	}
	sort.SliceStable(s.tensors, func(i, j int) bool { return tensorOrder(s.tensors[i].Name) < tensorOrder(s.tensors[j].Name) })
	DeriveFlags(c, s.tensors)
	return nil
}

// perLayerOrder is the order of a layer's tensors (GGUF converter order).
var perLayerOrder = []string{
	"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
	"attn_q_norm.weight", "attn_k_norm.weight", "post_attention_norm.weight", "ffn_norm.weight",
	"ffn_gate_inp.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
	"ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight", "post_ffw_norm.weight",
}

// tensorOrder is a sort key: embeddings, rope_freqs, layers in order, head.
func tensorOrder(name string) string {
	switch name {
	case "token_embd.weight":
		return "0"
	case "rope_freqs.weight":
		return "1"
	case "output_norm.weight":
		return "3a"
	case "output.weight":
		return "3b"
	}
	if l, suffix, ok := splitLayer(name); ok {
		i := slices.Index(perLayerOrder, suffix)
		if i < 0 {
			i = len(perLayerOrder)
		}
		return fmt.Sprintf("2%08d%03d%s", l, i, suffix)
	}
	return "4" + name
}

func (s *hfSource) Config() *Config          { return s.cfg }
func (s *hfSource) Tensors() []TensorInfo    { return s.tensors }
func (s *hfSource) Metadata() map[string]any { return s.meta }
func (s *hfSource) Close() error             { return nil }

func (s *hfSource) ReadTensor(name string) ([]byte, error) {
	t, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %q in the HF model", name)
	}
	if t.xf == ropeFreqs {
		return Llama3RopeFreqs(s.cfg), nil
	}
	var data []byte
	for _, p := range t.parts {
		b, err := s.folder.ReadTensor(p)
		if err != nil {
			return nil, err
		}
		if data == nil {
			data = b
		} else {
			data = append(data, b...)
		}
	}
	switch t.xf {
	case permuteQK:
		return permuteRows(data, t.heads, int(t.info.Shape[1]))
	case addOne, toF32:
		src, _ := hfDType(t.parts[0].DType)
		n := int(t.info.Elements())
		f, err := quant.ToFloat32(src, data, n)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", name, err)
		}
		add := float32(0)
		if t.xf == addOne {
			add = 1
		}
		out := make([]byte, 4*n)
		for i, v := range f {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(add+v))
		}
		return out, nil
	}
	return data, nil
}

// permuteRows reorders the rows of a Q or K projection (rows rows of equal
// byte length) from HF's rotate-half order to llama.cpp's interleaved order:
// within each head, row 2i+p comes from row p*(d/2)+i (convert_hf_to_gguf's
// LlamaModel.permute).
func permuteRows(data []byte, heads, rows int) ([]byte, error) {
	if heads <= 0 || rows%heads != 0 || (rows/heads)%2 != 0 || len(data)%rows != 0 {
		return nil, fmt.Errorf("cannot permute %d rows into %d heads", rows, heads)
	}
	rowBytes := len(data) / rows
	d := rows / heads
	out := make([]byte, len(data))
	for h := 0; h < heads; h++ {
		for i := 0; i < d/2; i++ {
			for p := 0; p < 2; p++ {
				dst := h*d + 2*i + p
				src := h*d + p*(d/2) + i
				copy(out[dst*rowBytes:(dst+1)*rowBytes], data[src*rowBytes:(src+1)*rowBytes])
			}
		}
	}
	return out, nil
}

// Llama3RopeFreqs computes Llama 3's per-frequency divisors as llama.cpp's
// converter stores them in rope_freqs.weight (F32), from c.RopeScaling.
func Llama3RopeFreqs(c *Config) []byte {
	rs := c.RopeScaling
	n := c.RopeDim / 2
	out := make([]byte, 4*n)
	lowWave := float64(rs.OriginalContextLen) / rs.LowFreqFactor
	highWave := float64(rs.OriginalContextLen) / rs.HighFreqFactor
	for i := 0; i < n; i++ {
		freq := 1 / math.Pow(c.RopeTheta, float64(2*i)/float64(c.RopeDim))
		wave := 2 * math.Pi / freq
		div := 1.0
		switch {
		case wave < highWave:
		case wave > lowWave:
			div = rs.Factor
		default:
			smooth := (float64(rs.OriginalContextLen)/wave - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor)
			div = 1 / ((1-smooth)/rs.Factor + smooth)
		}
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(div)))
	}
	return out
}
