//go:build js && wasm

package runtime

import (
	"math"
	"testing"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQ8Activations runs decode with its GEMVs on 8-bit activations
// (gpuops.Q8Fixed: lavapipe is a fallback adapter, which keeps floats),
// with and without the norms storing them, and without: each GEMV of a
// quantized weight gains its quantize launch unless a norm feeds it, and
// the logits move by the activations' rounding only (each value by up to
// 0.4% of its block's largest), a few percent of the logits' spread.
func TestQ8Activations(t *testing.T) {
	defer func() { gpuops.Q8Fixed = 0 }()
	for _, tc := range []struct{ arch, dtype string }{
		{model.ArchGemma3, "q4_k_m"}, {model.ArchQwen3, "q8_0"}, {model.ArchLlama, "q4_k_m"},
	} {
		t.Run(tc.arch+"_"+tc.dtype, func(t *testing.T) {
			m := loadQ8Synth(t, tc.arch, tc.dtype)
			prompt := []int32{2, 17, 99, 4, 250, 31}
			gpuops.Q8Fixed = -1
			plain := runFusion(t, m, prompt, 32)
			gpuops.Q8Fixed, q8NormOff = 1, true
			apart := runFusion(t, m, prompt, 32)
			q8NormOff = false
			q8 := runFusion(t, m, prompt, 32)
			gpuops.Q8Fixed = 0
			// A quantize launch for each GEMV: q/k/v, o, gate/up and down
			// of every layer, and the LM head; the norms before q/k/v,
			// gate/up and the LM head store the 8-bit rows themselves.
			assert.Equal(t, plain.launches+4*m.Config.Layers+1, apart.launches)
			assert.Equal(t, plain.launches+2*m.Config.Layers, q8.launches)
			assert.Equal(t, apart.logits, q8.logits, "the norms round as the quantize launch does")
			assert.Equal(t, apart.tokens, q8.tokens)
			requireRoundingOnly(t, plain.logits, q8.logits)
		})
	}
}

// TestTiledQ8Prefill runs a prompt chunk's matmuls on 8-bit activations
// (gpuops.TiledQ8Fixed, the integer tiled kernel): the tiled matmuls of a
// quantized weight gain a quantize launch per input (q/k/v and gate/up
// share theirs), and the last row's logits
// move by the activations' rounding only, as TestQ8Activations bounds
// decode's.
func TestTiledQ8Prefill(t *testing.T) {
	defer func() { gpuops.TiledQ8Fixed = 0 }()
	for _, tc := range []struct{ arch, dtype string }{
		{model.ArchGemma3, "q4_k_m"}, {model.ArchQwen3, "q8_0"}, {model.ArchGemma2, "q4_k_m"},
	} {
		t.Run(tc.arch+"_"+tc.dtype, func(t *testing.T) {
			m := loadQ8Synth(t, tc.arch, tc.dtype)
			prompt := make([]int32, 2*gpuops.TiledMinRows+3)
			for i := range prompt {
				prompt[i] = int32(2 + (37*i)%200)
			}
			run := func(knob int, normOff bool) ([]float32, int) {
				gpuops.TiledQ8Fixed, q8NormOff = knob, normOff
				defer func() { gpuops.TiledQ8Fixed, q8NormOff = 0, false }()
				s, err := m.NewSession(1, 64)
				require.NoError(t, err)
				defer s.Close()
				l, err := s.Logits(testCtx(t), 0, prompt, false)
				require.NoError(t, err)
				g, err := s.graph(stepLayout{B: 1, T: len(prompt), R: 1})
				require.NoError(t, err)
				return l[0], g.rec.dispatches()
			}
			plain, plainLaunches := run(-1, false)
			q8, q8Launches := run(1, false)
			apart, apartLaunches := run(1, true)
			// One quantize launch each for o and down; the norms before
			// q/k/v and gate/up store their rows as 8-bit too, which
			// without that are two launches more.
			assert.Equal(t, plainLaunches+2*m.Config.Layers, q8Launches, "quantize launches before the tiled matmuls")
			assert.Equal(t, plainLaunches+4*m.Config.Layers, apartLaunches, "quantize launches, the norms storing none")
			t.Logf("launches %d → %d (%d without the norms' 8-bit rows)", plainLaunches, q8Launches, apartLaunches)
			requireRoundingOnly(t, plain, q8)
			assert.Equal(t, apart, q8, "the norms store the rows a quantize launch would")
		})
	}
}

// loadQ8Synth loads a synthetic model of arch and dtype for the 8-bit
// activation tests, skipping where WGSL lacks the packed dot product.
func loadQ8Synth(t *testing.T, arch, dtype string) *Model {
	t.Helper()
	m, err := Load(testCtx(t), openSynth(t, arch, dtype, 9), LoadOptions{Precision: "f32", Device: sharedDevice(t)})
	require.NoError(t, err)
	t.Cleanup(m.Close)
	if !m.Backend.Device().Info.HasLanguageFeature(gpu.LanguagePacked4x8) {
		t.Skipf("WGSL here lacks %s", gpu.LanguagePacked4x8)
	}
	return m
}

// requireRoundingOnly checks that logits on 8-bit activations (q8) moved
// from the float path's (plain) by the activations' rounding only: by
// something, by under 5% of the logits' spread (root mean square), and no
// logit by 20% of it.
func requireRoundingOnly(t *testing.T, plain, q8 []float32) {
	t.Helper()
	require.Len(t, q8, len(plain))
	var ss, sd, worst float64
	for i := range plain {
		d := float64(q8[i] - plain[i])
		ss += float64(plain[i]) * float64(plain[i])
		sd += d * d
		worst = max(worst, math.Abs(d))
	}
	rms, rmsd := math.Sqrt(ss/float64(len(plain))), math.Sqrt(sd/float64(len(plain)))
	t.Logf("logits: rms %.4g, difference rms %.4g, worst %.4g", rms, rmsd, worst)
	assert.Greater(t, rmsd, 0.0, "the rounding shows")
	assert.Less(t, rmsd, 0.05*rms)
	assert.Less(t, worst, 0.2*rms)
}
