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
				// 128 positions: several splits for either kernel.
				plain, fused := runFusions(t, m, []int32{2, 17, 99, 4, 250, 31}, 128, &gpuops.GemvCombineFixed)
				layers := m.Config.Layers
				assert.Equal(t, plain.launches-layers, fused.launches, "one launch fewer per layer")
				assert.Equal(t, layers, fused.ops["combine+matmul"])
				assert.Zero(t, plain.ops["combine+matmul"])
				assert.Zero(t, fused.prefill["combine+matmul"], "prompt chunks keep the combine pass")
				requireSameOutput(t, plain, fused, 1e-4)
			})
		}
	}
}
