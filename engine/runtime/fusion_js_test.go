//go:build js && wasm

package runtime

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gpu"
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
	defer func() { ropeAttnFixed = 0 }()
	for _, tc := range []struct {
		arch, prec string
		op         string // the fused entry's op
	}{
		{model.ArchGemma3, "f32", "qk_norm+rope+attention"},
		{model.ArchGemma3, "f16", "qk_norm+rope+attention"},
		{model.ArchQwen3, "f32", "qk_norm+rope+attention"},
		{model.ArchLlama, "f32", "rope+attention"},
	} {
		t.Run(tc.arch+"/"+tc.prec, func(t *testing.T) {
			dev := sharedDevice(t)
			if tc.prec == "f16" && !dev.HasFeature(gpu.FeatureShaderF16) {
				t.Skip("the device has no shader-f16")
			}
			path := filepath.Join(t.TempDir(), "m.gguf")
			_, err := synth.WriteFile(path, synth.Options{Arch: tc.arch, Shape: "tiny", DType: "q8_0", Seed: 7})
			require.NoError(t, err)
			src, err := model.Open(path)
			require.NoError(t, err)
			defer src.Close()
			prompt := []int32{2, 17, 99, 4, 250, 31}
			type run struct {
				launches     int
				ops, prefill map[string]int
				logits       []float32
				tokens       []int32
			}
			planOps := func(s *Session, lay stepLayout) (map[string]int, int) {
				g, err := s.graph(lay)
				require.NoError(t, err)
				ops := map[string]int{}
				for _, e := range g.rec.plan(lay).Entries {
					ops[e.Op]++
				}
				return ops, g.rec.dispatches()
			}
			runs := map[bool]run{}
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
				s, err := m.NewSession(1, 32)
				require.NoError(t, err)
				_, err = s.Logits(testCtx(t), 0, prompt[:5], false)
				require.NoError(t, err)
				l, err := s.Logits(testCtx(t), 0, prompt[5:], false) // a one-row step
				require.NoError(t, err)
				ops, launches := planOps(s, stepLayout{B: 1, T: 1, R: 1, Sample: true})
				prefill, _ := planOps(s, stepLayout{B: 1, T: 3, R: 1, All: true})
				s.Close()
				s, err = m.NewSession(1, 32)
				require.NoError(t, err)
				res, err := s.Generate(testCtx(t), [][]int32{prompt}, GenOptions{MaxTokens: 8})
				require.NoError(t, err)
				s.Close()
				runs[fused] = run{launches: launches, ops: ops, prefill: prefill, logits: l[0], tokens: res[0].Tokens}
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
			require.Len(t, fused.logits, len(plain.logits))
			tol := 1e-4
			if tc.prec == "f16" {
				tol = 1e-2
			}
			for i := range plain.logits {
				require.InDelta(t, plain.logits[i], fused.logits[i], tol+tol*float64(abs32(plain.logits[i])), "logit %d", i)
			}
			assert.Equal(t, plain.tokens, fused.tokens)
		})
	}
}
