//go:build js && wasm

package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/model"
)

// Decode steps run the residual add and norm inside the q/k/v and gate/up
// GEMVs that read them (Gemma's post-norm form and Llama/Qwen's add form):
// the plan has a launch fewer per fused norm, and the logits and greedy
// tokens are the unfused plan's.
func TestResidNormFusion(t *testing.T) {
	defer func() { gpuops.GemvNormFixed = 0 }()
	for _, a := range []string{model.ArchGemma3, model.ArchQwen3, model.ArchLlama} {
		t.Run(a, func(t *testing.T) {
			m, err := Load(testCtx(t), openSynth(t, a, "q8_0", 5), LoadOptions{Precision: "f32", Device: sharedDevice(t)})
			require.NoError(t, err)
			defer m.Close()
			gpuops.GemvNormFixed = 1
			if !m.Backend.ops.GemvNormFits(m.Config.Hidden, qkvOuts(m), gpuops.QKVStorage) {
				t.Skipf("the device cannot hold the fused q/k/v GEMV")
			}
			plain, fused := runFusions(t, m, []int32{2, 17, 99, 4, 250, 31}, 32, &gpuops.GemvNormFixed)
			layers := m.Config.Layers
			// Every block's FFN norm, and its attention norm but the first's.
			assert.Equal(t, plain.launches-(2*layers-1), fused.launches)
			// The last block's add runs with the final norm, before the LM
			// head: too wide a GEMV to norm in every workgroup.
			assert.Equal(t, 1, fused.ops["add+rmsnorm"]+fused.ops["rmsnorm+add+rmsnorm"], "no norm launch left before a GEMV but the LM head's")
			assert.Equal(t, layers-1, fused.ops["add+rmsnorm+matmul×3"]+fused.ops["rmsnorm+add+rmsnorm+matmul×3"])
			assert.Equal(t, layers, fused.ops["add+rmsnorm+matmul+glu"]+fused.ops["rmsnorm+add+rmsnorm+matmul+glu"])
			requireSameOutput(t, plain, fused, 1e-4)
		})
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// qkvOuts is the q/k/v GEMV's output count.
func qkvOuts(m *Model) int { return (m.Config.Heads + 2*m.Config.KVHeads) * m.Config.HeadDim }
