//go:build js && wasm

package runtime

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/synth"
)

// Gemma's embedding scale runs inside the gather in recorded steps: the
// plan starts with one embed+scale and has no separate scale (the oracle
// tests check the values).
func TestGemmaEmbedScaleFused(t *testing.T) {
	for _, a := range []string{model.ArchGemma, model.ArchGemma2, model.ArchGemma3} {
		t.Run(a, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.gguf")
			_, err := synth.WriteFile(path, synth.Options{Arch: a, Shape: "tiny", Seed: 1})
			require.NoError(t, err)
			src, err := model.Open(path)
			require.NoError(t, err)
			defer src.Close()
			m, err := Load(testCtx(t), src, LoadOptions{Precision: "f32", Device: sharedDevice(t)})
			require.NoError(t, err)
			defer m.Close()
			for _, lay := range []stepLayout{{B: 1, T: 1, R: 2, Sample: true}, {B: 2, T: 3, R: 1, All: true}} {
				s, err := m.NewSession(2, 16)
				require.NoError(t, err)
				p, err := s.Plan(lay)
				s.Close()
				require.NoError(t, err)
				ops := map[string]int{}
				for _, e := range p.Entries {
					ops[e.Op]++
				}
				assert.Equal(t, "embed+scale", p.Entries[0].Op, "%s", lay)
				assert.Equal(t, lay.R, ops["embed+scale"], "%s: one per decode step", lay)
				assert.Zero(t, ops["scale"]+ops["embed"], "%s", lay)
			}
		})
	}
}

// Decode attention norms and rotates q and k itself where the device binds
// the fused kernel's buffers (Gemma 3 and Qwen3 with q/k norms, Llama with
// rotation only): the decode plan has one launch fewer per layer, prompt
// chunks keep the separate rope, and the logits and greedy tokens are the
// unfused plan's.
func TestRopeAttentionFusion(t *testing.T) {
	defer func() { ropeAttnFixed, gpuops.AttnGroupedFixed = 0, 0 }()
	for _, tc := range []struct {
		arch, prec string
		op         string // the fused entry's op
		grouped    int    // gpuops.AttnGroupedFixed: 1 decodes by KV head, as GPUs do
	}{
		{model.ArchGemma3, "f32", "qk_norm+rope+attention", 0},
		{model.ArchGemma3, "f16", "qk_norm+rope+attention", 0},
		{model.ArchQwen3, "f32", "qk_norm+rope+attention", 0},
		{model.ArchLlama, "f32", "rope+attention", 0},
		{model.ArchGemma3, "f32", "qk_norm+rope+attention", 1},
		{model.ArchQwen3, "f32", "qk_norm+rope+attention", 1},
		{model.ArchLlama, "f32", "rope+attention", 1},
	} {
		t.Run(fmt.Sprintf("%s/%s/grouped%d", tc.arch, tc.prec, tc.grouped), func(t *testing.T) {
			gpuops.AttnGroupedFixed = tc.grouped
			dev := sharedDevice(t)
			if tc.prec == "f16" && !dev.HasFeature(gpu.FeatureShaderF16) {
				t.Skip("the device has no shader-f16")
			}
			src := openSynth(t, tc.arch, "q8_0", 7)
			prompt := []int32{2, 17, 99, 4, 250, 31}
			runs := map[bool]fusionRun{}
			var layers int
			for _, fused := range []bool{false, true} {
				ropeAttnFixed = -1
				if fused {
					ropeAttnFixed = 1 // lavapipe is a software adapter
				}
				// A model each: no graph or cache of one plan carries over.
				m, err := Load(testCtx(t), src, LoadOptions{Precision: tc.prec, Device: dev})
				require.NoError(t, err)
				defer m.Close()
				if !m.Backend.attnKernel().FusesRope() {
					t.Skip("the device binds too few storage buffers for the fused attention")
				}
				layers = m.Config.Layers
				runs[fused] = runFusion(t, m, prompt, 32)
			}
			plain, fused := runs[false], runs[true]
			unfusedOp := strings.TrimSuffix(tc.op, "+attention")
			if unfusedOp == "rope" {
				unfusedOp = "rope_qk"
			}
			assert.Equal(t, plain.launches-layers, fused.launches, "one launch fewer per layer")
			assert.Equal(t, layers, plain.ops[unfusedOp])
			assert.Equal(t, layers, fused.ops[tc.op])
			assert.Zero(t, fused.ops[unfusedOp]+fused.ops["attention"], "no separate rope or attention left in decode")
			assert.Equal(t, layers, fused.prefill[unfusedOp], "prompt chunks keep the separate rope")
			assert.Zero(t, fused.prefill[tc.op])
			tol := 1e-4
			if tc.prec == "f16" {
				tol = 1e-2
			}
			requireSameOutput(t, plain, fused, tol)
		})
	}
}
