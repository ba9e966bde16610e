package arch_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
)

// Llama 3.1's published scaling (theta 500000, factor 8, low 1, high 4,
// original context 8192, head dim 128): high frequencies keep their value,
// low ones are divided by 8, the band between is interpolated.
func TestLlama3Factors(t *testing.T) {
	cfg := &model.Config{HeadDim: 128, RopeTheta: 500000, RopeScaling: &model.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContextLen: 8192}}
	f := arch.Llama3Factors(cfg)
	require.Len(t, f, 64)
	for i, v := range f {
		wavelen := 2 * math.Pi * math.Pow(500000, float64(2*i)/128)
		switch {
		case wavelen < 8192/4:
			assert.Equal(t, float32(1), v, "pair %d", i)
		case wavelen > 8192:
			assert.Equal(t, float32(8), v, "pair %d", i)
		default:
			assert.True(t, v > 1 && v < 8, "pair %d: %v interpolates", i, v)
			assert.GreaterOrEqual(t, v, f[i-1], "divisors grow with wavelength")
		}
	}
	assert.Nil(t, arch.Llama3Factors(&model.Config{HeadDim: 64, RopeTheta: 1e4}))
}

// Both forms of Llama 3 scaling compute identical factors: the
// rope_freqs.weight tensor (llama.cpp's converter; HF sources synthesize it)
// and rope_scaling in the config give bit-identical logits.
func TestRopeFreqsTensorMatchesConfig(t *testing.T) {
	d, err := refdata.HFFixturesDir()
	dir := refdata.Must(t, d, err)
	src, err := model.Open(filepath.Join(dir, "llama3-ropescaled-f16"))
	require.NoError(t, err)
	defer src.Close()
	cfg := src.Config()
	require.NotNil(t, cfg.RopeScaling)
	ids := []int32{5, 401, 33, 250, 7, 64, 500, 12, 400, 3, 77, 212, 9, 128, 340, 21}

	run := func(s model.Source) [][]float32 {
		be := ref.New()
		m, err := arch.Load(s, be)
		require.NoError(t, err)
		l, err := arch.NewRunner(m, be, 1, len(ids)).Feed([]int{0}, [][]int32{ids}, true)
		require.NoError(t, err)
		return l
	}
	require.True(t, cfg.RopeFreqs, "the HF source synthesizes rope_freqs.weight")
	fromTensor := run(src)

	fromConfig := *cfg
	fromConfig.RopeFreqs = false
	assert.Equal(t, fromTensor, run(overlay{Source: src, cfg: &fromConfig, extra: newMemSource(cfg), hide: "rope_freqs.weight"}))

	plain := fromConfig
	plain.RopeScaling = nil
	assert.NotEqual(t, fromTensor[len(ids)-1], run(overlay{Source: src, cfg: &plain, extra: newMemSource(cfg), hide: "rope_freqs.weight"})[len(ids)-1], "scaling changes the logits")
}
