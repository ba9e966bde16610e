package refdata

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadHFReference(t *testing.T) {
	tests := []struct {
		name, json, err string
	}{
		{"complete", `{"input_ids":[5,6],"argmax_per_position":[1,0],"logits":{"0":[0,1],"1":[2,1]}}`, ""},
		{"logits missing a position", `{"input_ids":[5,6],"argmax_per_position":[1,0],"logits":{"0":[0,1]}}`, "logits for 1 positions"},
		{"argmax missing", `{"input_ids":[5],"logits":{"0":[0,1]}}`, "0 argmaxes"},
		{"not json", `{`, "reference.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "reference.json"), []byte(tt.json), 0o644))
			r, err := ReadHFReference(dir)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, HFReference{InputIDs: []int32{5, 6}, Argmax: []int32{1, 0},
				Logits: map[string][]float32{"0": {0, 1}, "1": {2, 1}}}, r)
		})
	}
	_, err := ReadHFReference(t.TempDir())
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// Every fixture has a complete reference.json, and the config-only one is
// made loadable beside gemma3-f32's weights.
func TestHFFixtures(t *testing.T) {
	d, err := HFFixturesDir()
	dir := Must(t, d, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			r := MustHFReference(t, filepath.Join(dir, e.Name()))
			assert.NotEmpty(t, r.InputIDs, e.Name())
		}
	}
	folder := HFFixtureFolder(t, dir, HFConfig4x)
	assert.FileExists(t, filepath.Join(folder, "config.json"))
	assert.FileExists(t, filepath.Join(folder, "model.safetensors"))
	assert.Equal(t, filepath.Join(dir, "qwen3-f32"), HFFixtureFolder(t, dir, "qwen3-f32"))
}

func TestStories260KIDsAreCopies(t *testing.T) {
	g := Stories260KGreedy()
	require.Len(t, g, 32)
	require.Len(t, Stories260KPrompt(), 5)
	g[0] = -1
	assert.Equal(t, int32(432), Stories260KGreedy()[0])
}

func TestArgmaxTakesFirstMaximum(t *testing.T) {
	for _, tt := range []struct {
		l    []float32
		want int32
	}{
		{[]float32{1}, 0},
		{[]float32{0, 3, 3, 1}, 1},
		{[]float32{-2, -1, -5}, 1},
	} {
		assert.Equal(t, tt.want, argmax(tt.l), "%v", tt.l)
	}
}
