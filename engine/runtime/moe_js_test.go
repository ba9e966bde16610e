//go:build js && wasm

package runtime

import (
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

// refGreedy decodes n tokens after each prompt with the CPU reference.
func refGreedy(t *testing.T, src model.Source, prompts [][]int32, n int) [][]int32 {
	be := ref.New()
	cm, err := arch.Load(src, be)
	require.NoError(t, err)
	r := arch.NewRunner(cm, be, len(prompts), 64)
	var out [][]int32
	for i, p := range prompts {
		logits, err := r.Feed([]int{i}, [][]int32{p}, false)
		require.NoError(t, err)
		var got []int32
		for len(got) < n {
			got = append(got, sample.Argmax(logits[0]))
			logits, err = r.Feed([]int{i}, [][]int32{{got[len(got)-1]}}, false)
			require.NoError(t, err)
		}
		out = append(out, got)
	}
	return out
}

// MoE decode through recorded graphs (one row per sequence, several
// sequences, several steps per submission) gives the CPU's greedy tokens.
func TestMoEGreedy(t *testing.T) {
	dev := sharedDevice(t)
	prompts := [][]int32{{2, 17, 300, 4000, 5}, {9, 1024, 7}}
	for _, a := range []string{model.ArchMixtral, model.ArchQwen3MoE} {
		t.Run(a, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.gguf")
			_, err := synth.WriteFile(path, synth.Options{Arch: a, Shape: "tiny", DType: "q8_0", Seed: 3})
			require.NoError(t, err)
			src, err := model.Open(path)
			require.NoError(t, err)
			defer src.Close()
			want := refGreedy(t, src, prompts, 12)
			m, err := Load(testCtx(t), src, LoadOptions{Precision: "f32", Device: dev})
			require.NoError(t, err)
			defer m.Close()
			for _, steps := range []int{1, 4} {
				s, err := m.NewSession(len(prompts), 64)
				require.NoError(t, err)
				res, err := s.Generate(testCtx(t), prompts, GenOptions{MaxTokens: 12, StepsPerSubmit: steps})
				s.Close()
				require.NoError(t, err)
				for i := range prompts {
					assert.Equal(t, want[i], res[i].Tokens, "sequence %d, steps per submit %d", i, steps)
				}
			}
			p := s0Plan(t, m)
			assert.Contains(t, p, "moe/q8_0/top")
		})
	}
}

// s0Plan is the decode plan of a one-sequence session, as text.
func s0Plan(t *testing.T, m *Model) string {
	s, err := m.NewSession(1, 16)
	require.NoError(t, err)
	defer s.Close()
	p, err := s.Plan(stepLayout{B: 1, T: 1, R: 1})
	require.NoError(t, err)
	return p.String()
}
