//go:build js && wasm

package runtime

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/synth"
)

// Decode steps run the residual add and norm inside the q/k/v and gate/up
// GEMVs that read them (Gemma's post-norm form and Llama/Qwen's add form):
// the plan has a launch fewer per fused norm, and the logits and greedy
// tokens are the unfused plan's.
func TestResidNormFusion(t *testing.T) {
	defer func() { gpuops.GemvNormFixed = 0 }()
	for _, a := range []string{model.ArchGemma3, model.ArchQwen3, model.ArchLlama} {
		t.Run(a, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.gguf")
			_, err := synth.WriteFile(path, synth.Options{Arch: a, Shape: "tiny", DType: "q8_0", Seed: 5})
			require.NoError(t, err)
			src, err := model.Open(path)
			require.NoError(t, err)
			defer src.Close()
			m, err := Load(testCtx(t), src, LoadOptions{Precision: "f32", Device: sharedDevice(t)})
			require.NoError(t, err)
			defer m.Close()
			gpuops.GemvNormFixed = 1
			if !m.Backend.ops.GemvNormFits(m.Config.Hidden, qkvOuts(m), gpuops.QKVStorage) {
				t.Skipf("the device cannot hold the fused q/k/v GEMV")
			}
			prompt := []int32{2, 17, 99, 4, 250, 31}
			type run struct {
				launches int
				ops      map[string]int
				logits   []float32
				tokens   []int32
			}
			runs := map[bool]run{}
			for _, fused := range []bool{false, true} {
				gpuops.GemvNormFixed = -1
				if fused {
					gpuops.GemvNormFixed = 1 // lavapipe is a fallback adapter
				}
				s, err := m.NewSession(1, 32)
				require.NoError(t, err)
				_, err = s.Logits(testCtx(t), 0, prompt[:5], false)
				require.NoError(t, err)
				l, err := s.Logits(testCtx(t), 0, prompt[5:], false) // a one-row step
				require.NoError(t, err)
				lay := stepLayout{B: 1, T: 1, R: 1, Sample: true}
				g, err := s.graph(lay)
				require.NoError(t, err)
				ops := map[string]int{}
				for _, e := range g.rec.plan(lay).Entries {
					ops[e.Op]++
				}
				launches := g.rec.dispatches()
				s.Close()
				s, err = m.NewSession(1, 32)
				require.NoError(t, err)
				res, err := s.Generate(testCtx(t), [][]int32{prompt}, GenOptions{MaxTokens: 8})
				require.NoError(t, err)
				s.Close()
				runs[fused] = run{launches: launches, ops: ops, logits: l[0], tokens: res[0].Tokens}
			}
			plain, fused := runs[false], runs[true]
			layers := m.Config.Layers
			// Every block's FFN norm, and its attention norm but the first's.
			assert.Equal(t, plain.launches-(2*layers-1), fused.launches)
			assert.Zero(t, fused.ops["add+rmsnorm"]+fused.ops["rmsnorm+add+rmsnorm"], "no norm launch left before a GEMV")
			assert.Equal(t, layers-1, fused.ops["add+rmsnorm+matmul×3"]+fused.ops["rmsnorm+add+rmsnorm+matmul×3"])
			assert.Equal(t, layers, fused.ops["add+rmsnorm+matmul+glu"]+fused.ops["rmsnorm+add+rmsnorm+matmul+glu"])
			require.Len(t, fused.logits, len(plain.logits))
			for i := range plain.logits {
				require.InDelta(t, plain.logits[i], fused.logits[i], 1e-4+1e-4*float64(abs32(plain.logits[i])), "logit %d", i)
			}
			assert.Equal(t, plain.tokens, fused.tokens)
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
