//go:build js && wasm

package runtime

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
