//go:build js && wasm

package runtime

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/synth"
)

// The largest |webgpu - cpu| logit difference allowed, whatever the weight
// dtype: both sides dequantize the same packed bytes exactly, so with f32
// activations only the summation order differs (measured ≤ 1e-5 on
// lavapipe); f16 activations round every intermediate (measured ≤ 6e-3).
const (
	oracleBoundF32 = 1e-4
	oracleBoundF16 = 2e-2
)

// oracleDTypes are the llama.cpp-oracle set's weight types; f16 activations
// are checked on the first and last (to keep the suite fast on lavapipe).
var oracleDTypes = []string{"keep", "f16", "q8_0", "q4_k", "q6_k", "q4_k_m"}

// oracleFlips is how many positions of an MoE model may exceed the bound:
// where two router logits nearly tie, a last-bit difference swaps an expert
// and moves that position (and, through attention, later ones) a lot. As
// engine/arch's oracle test allows for the CPU, and no more: at most one
// position per run, and none for f32 weights with f32 activations (whose
// router logits agree within 1e-6). None has been needed so far.
const oracleFlips = 1

// The llama.cpp-oracle set (synth tiny models of every architecture in
// every dtype): WebGPU logits agree with the CPU reference within the
// bound, and teacher-forced top-1 is equal wherever the CPU's top-2 margin
// exceeds it.
func TestSynthOracleSet(t *testing.T) {
	dev := sharedDevice(t)
	tokens := []int32{2, 17, 300, 4000, 5, 99, 1024, 7}
	for _, a := range synth.Archs {
		moe := a == model.ArchMixtral || a == model.ArchQwen3MoE
		for i, dt := range oracleDTypes {
			t.Run(a+"/"+dt, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "m.gguf")
				_, err := synth.WriteFile(path, synth.Options{Arch: a, Shape: "tiny", DType: dt, Seed: 7})
				require.NoError(t, err)
				src, err := model.Open(path)
				require.NoError(t, err)
				defer src.Close()
				be := ref.New()
				cm, err := arch.Load(src, be)
				require.NoError(t, err)
				want, err := arch.NewRunner(cm, be, 1, len(tokens)).Feed([]int{0}, [][]int32{tokens}, true)
				require.NoError(t, err)
				precs := []string{"f32"}
				if (i == 0 || i == len(oracleDTypes)-1) && dev.HasFeature("shader-f16") {
					precs = append(precs, "f16")
				}
				for _, prec := range precs {
					bound := oracleBoundF32
					if prec == "f16" {
						bound = oracleBoundF16
					}
					allowed := 0
					if moe && (i > 0 || prec == "f16") {
						allowed = oracleFlips
					}
					m, err := Load(testCtx(t), src, LoadOptions{Precision: prec, Device: dev})
					require.NoError(t, err)
					s, err := m.NewSession(1, len(tokens))
					require.NoError(t, err)
					got, err := s.Logits(testCtx(t), 0, tokens, true)
					s.Close()
					m.Close()
					require.NoError(t, err)
					var worst float64
					var flips []int
					for i := range want {
						var d float64
						for j := range want[i] {
							d = math.Max(d, math.Abs(float64(got[i][j]-want[i][j])))
						}
						if d > bound && allowed > 0 {
							flips = append(flips, i)
							continue
						}
						worst = math.Max(worst, d)
						if top2Margin(want[i]) > bound {
							assert.Equal(t, sample.Argmax(want[i]), sample.Argmax(got[i]), "%s: top-1 at %d", prec, i)
						}
					}
					t.Logf("%s: max |webgpu - cpu| = %.2e; positions past the bound: %v", prec, worst, flips)
					assert.LessOrEqual(t, worst, bound, prec)
					assert.LessOrEqual(t, len(flips), allowed, "%s: positions %v differ by more than %g", prec, flips, bound)
				}
			})
		}
	}
}
