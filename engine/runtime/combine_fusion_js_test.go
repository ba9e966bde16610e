//go:build js && wasm

package runtime

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/model"
)

// Decode steps merge the attention's split partials inside the o
// projection's GEMV, with either decode attention kernel: the plan has a
// launch fewer per layer, and the logits and greedy tokens are the
// unfused plan's.
func TestCombineFusion(t *testing.T) {
	defer func() { gpuops.GemvCombineFixed, gpuops.AttnGroupedFixed = 0, 0 }()
	for _, a := range []string{model.ArchGemma3, model.ArchQwen3, model.ArchLlama} {
		for _, grouped := range []int{1, -1} {
			t.Run(fmt.Sprintf("%s/grouped%d", a, grouped), func(t *testing.T) {
				gpuops.AttnGroupedFixed = grouped
				m, err := Load(testCtx(t), openSynth(t, a, "q8_0", 9), LoadOptions{Precision: "f32", Device: sharedDevice(t)})
				require.NoError(t, err)
				defer m.Close()
				prompt := []int32{2, 17, 99, 4, 250, 31}
				runs := map[bool]fusionRun{}
				for _, fused := range []bool{false, true} {
					gpuops.GemvCombineFixed = -1
					if fused {
						gpuops.GemvCombineFixed = 1 // lavapipe is a fallback adapter
					}
					// 128 positions: several splits for either kernel.
					runs[fused] = runFusion(t, m, prompt, 128)
				}
				plain, fused := runs[false], runs[true]
				layers := m.Config.Layers
				assert.Equal(t, plain.launches-layers, fused.launches, "one launch fewer per layer")
				assert.Equal(t, layers, fused.ops["combine+matmul"])
				assert.Zero(t, plain.ops["combine+matmul"])
				assert.Zero(t, fused.prefill["combine+matmul"], "prompt chunks keep the combine pass")
				require.Len(t, fused.logits, len(plain.logits))
				for i := range plain.logits {
					require.InDelta(t, plain.logits[i], fused.logits[i], 1e-4+1e-4*float64(abs32(plain.logits[i])), "logit %d", i)
				}
				assert.Equal(t, plain.tokens, fused.tokens)
			})
		}
	}
}
