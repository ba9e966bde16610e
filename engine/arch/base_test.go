package arch

import (
	"math"

	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/model"
)

// Gemma's normalizer: exact sqrt(hidden) in f32, or rounded to the dtype HF
// holds it in (hidden 640: √640 = 25.298…, 25.25 in bf16).
func TestEmbedScale(t *testing.T) {
	tests := []struct {
		hidden int
		round  dtype.DType
		want   float32
	}{
		{256, dtype.F32, 16},
		{256, dtype.BF16, 16},
		{640, dtype.F32, 25.298222},
		{640, dtype.BF16, 25.25},
		{2048, dtype.F16, 45.25},
	}
	for _, tt := range tests {
		b := &base{cfg: &model.Config{Hidden: tt.hidden}, round: tt.round}
		assert.InDelta(t, tt.want, b.embedScale(), 1e-5, "hidden %d %v", tt.hidden, tt.round)
	}
}

// The config's checkpoint dtype decides the rounding unless the options
// override it.
func TestOptionsRounding(t *testing.T) {
	tests := []struct {
		name    string
		hfDType string
		o       Options
		want    dtype.DType
	}{
		{"gguf", "", Options{}, dtype.F32},
		{"hf f32", "float32", Options{}, dtype.F32},
		{"hf bf16", "bfloat16", Options{}, dtype.BF16},
		{"hf f16", "float16", Options{}, dtype.F16},
		{"exact overrides config", "bfloat16", Options{Exact: true}, dtype.F32},
		{"explicit dtype on gguf", "", Options{HFDType: dtype.BF16}, dtype.BF16},
		{"explicit dtype wins over exact", "bfloat16", Options{HFDType: dtype.F16, Exact: true}, dtype.F16},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.o.rounding(&model.Config{HFDType: tt.hfDType}), tt.name)
	}
}

// constBackend records constants; every other method is unused here.
type constBackend struct{ Backend }

type constTensor []float32

func (c constTensor) Shape() []int { return []int{len(c)} }
func (constBackend) Floats(d []float32, shape ...int) Tensor {
	return constTensor(append([]float32(nil), d...))
}
func (constBackend) Weight(model.TensorInfo, []byte) (Tensor, error) { return nil, nil }

type noTensors struct{ model.Source }

func (noTensors) Tensors() []model.TensorInfo { return nil }

// Per-layer RoPE divisors: linear scaling applies to global layers only
// (Gemma 3 4B+), llama3 factors to every layer, and HF rounding emulation
// yields divisors inv/round(inv).
func TestRopeFreqsPerLayer(t *testing.T) {
	cfg := &model.Config{Layers: 3, HeadDim: 8, RopeTheta: 1e6, RopeLocalTheta: 1e4, SlidingWindow: 4,
		Sliding: []bool{true, false, true}, RopeScaling: &model.RopeScaling{Type: "linear", Factor: 8}}
	f, err := ropeFreqs(constBackend{}, noTensors{}, cfg, dtype.F32)
	assert.NoError(t, err)
	assert.Equal(t, constTensor{1, 1, 1, 1}, f[0], "sliding layers are not scaled")
	assert.Equal(t, constTensor{8, 8, 8, 8}, f[1])
	assert.Equal(t, constTensor{1, 1, 1, 1}, f[2])

	cfg.RopeScaling = nil
	f, err = ropeFreqs(constBackend{}, noTensors{}, cfg, dtype.F32)
	assert.NoError(t, err)
	assert.Nil(t, f, "plain RoPE needs no divisors")

	f, err = ropeFreqs(constBackend{}, noTensors{}, cfg, dtype.BF16)
	assert.NoError(t, err)
	for i, layerTheta := range []float64{1e4, 1e6, 1e4} {
		for j, div := range f[i].(constTensor) {
			inv := float32(math.Pow(layerTheta, -float64(2*j)/8))
			assert.InDelta(t, roundTo(inv, dtype.BF16), inv/div, 1e-9, "layer %d pair %d", i, j)
		}
	}
}
