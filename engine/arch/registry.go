package arch

import (
	"fmt"
	"sort"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/model"
)

// Model is an architecture with its weights bound to a backend.
type Model interface {
	Config() *model.Config
	// Forward runs one step and returns logits [rows of b.Out (or all rows), vocab].
	Forward(op Ops, b *Batch, c *Cache) Tensor
}

// Options adjust loading. The zero value follows the model's config.
type Options struct {
	// HFDType, when BF16 or F16, rounds two constants as HF transformers
	// does for a checkpoint loaded in that dtype: RoPE's inverse frequencies
	// (its inv_freq buffer is cast with the model) and Gemma's sqrt(hidden)
	// embedding normalizer (made in the model dtype). Left at F32 (the zero
	// value), the config decides: HF checkpoints and their converted shards
	// name their dtype (model.Config.HFDType), so their logits match
	// transformers'; GGUF models use exact values, like llama.cpp.
	HFDType dtype.DType
	// Exact ignores the config's HFDType and uses exact float32 constants
	// (llama.cpp's), unless HFDType asks for rounding.
	Exact bool
}

// rounding is the dtype the HF-emulated constants are rounded to.
func (o Options) rounding(cfg *model.Config) dtype.DType {
	switch {
	case o.HFDType != dtype.F32:
		return o.HFDType
	case o.Exact:
		return dtype.F32
	}
	return cfg.HFComputeDType()
}

var architectures = map[string]func(cfg *model.Config) Model{}

func register(name string, f func(cfg *model.Config) Model) { architectures[name] = f }

// Supported lists the architecture names Load accepts.
func Supported() []string {
	names := make([]string, 0, len(architectures))
	for n := range architectures {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Load binds src's weights to be and returns the model.
func Load(src model.Source, be Backend) (Model, error) { return LoadWith(src, be, Options{}) }

// LoadWith is Load with options.
func LoadWith(src model.Source, be Backend, o Options) (Model, error) {
	cfg := src.Config()
	if cfg == nil {
		return nil, fmt.Errorf("the model has no configuration")
	}
	newModel, ok := architectures[cfg.Architecture]
	if !ok {
		return nil, fmt.Errorf("architecture %q is not supported (supported: %v)", cfg.Architecture, Supported())
	}
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	m := newModel(cfg)
	bd := &binder{src: src, be: be, infos: map[string]model.TensorInfo{}, conds: conditions(cfg), loaded: map[string]Tensor{}}
	for _, t := range src.Tensors() {
		bd.infos[t.Name] = t
	}
	if err := bd.bind(m, "", cfg.Layers); err != nil {
		return nil, err
	}
	round := o.rounding(cfg)
	freqs, err := ropeFreqs(be, src, cfg, round)
	if err != nil {
		return nil, err
	}
	m.(interface{ setBase([]Tensor, dtype.DType) }).setBase(freqs, round)
	return m, nil
}

// checkConfig rejects hyper-parameters a forward pass cannot run with.
func checkConfig(c *model.Config) error {
	switch {
	case c.Layers <= 0 || c.Hidden <= 0 || c.VocabSize <= 0:
		return fmt.Errorf("config: layers, hidden size and vocabulary must be positive (got %d, %d, %d)", c.Layers, c.Hidden, c.VocabSize)
	case c.Heads <= 0 || c.KVHeads <= 0 || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("config: %d heads cannot share %d KV heads", c.Heads, c.KVHeads)
	case c.HeadDim <= 0:
		return fmt.Errorf("config: head_dim must be positive")
	case ropeDim(c)%2 != 0 || ropeDim(c) > c.HeadDim:
		return fmt.Errorf("config: rope_dim %d must be even and at most head_dim %d", ropeDim(c), c.HeadDim)
	case c.Experts > 0 && (c.ExpertsUsed <= 0 || c.ExpertsUsed > c.Experts):
		return fmt.Errorf("config: %d experts used out of %d", c.ExpertsUsed, c.Experts)
	}
	return nil
}

func ropeDim(c *model.Config) int {
	if c.RopeDim > 0 {
		return c.RopeDim
	}
	return c.HeadDim
}
