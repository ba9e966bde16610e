package arch_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/internal/testdata"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/doppler-engine/doppler/engine/sample"
)

// hfReference is reference.json of an HF fixture: logits HF transformers
// computed in float32 for every position of input_ids.
type hfReference struct {
	InputIDs []int32              `json:"input_ids"`
	Argmax   []int32              `json:"argmax_per_position"`
	Logits   map[string][]float32 `json:"logits"`
}

// The fixtures' logits are small (|logit| < 7) and the closest top-2 gap is
// 0.0018, so an f32 forward pass must match within 1e-3 with equal argmaxes.
const hfTolerance = 1e-3

// hfFolders lists every fixture; each must be covered.
var hfFolders = []string{
	"gemma2-bf16",
	"gemma3-bf16-sharded",
	"gemma3-f32",
	"gemma3-f32-config4x",
	"llama3-ropescaled-f16",
	"mixtral-f32",
	"qwen3-f32",
	"qwen3moe-f32",
}

func TestHFFixtures(t *testing.T) {
	d, err := testdata.HFFixturesDir()
	dir := testdata.Must(t, d, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var present []string
	for _, e := range entries {
		if e.IsDir() {
			present = append(present, e.Name())
		}
	}
	require.ElementsMatch(t, hfFolders, present, "every fixture folder is tested")

	for _, name := range hfFolders {
		t.Run(name, func(t *testing.T) {
			folder := hfFolder(t, dir, name)
			ref := readHFReference(t, filepath.Join(dir, name, "reference.json"))
			// Plain loading follows the checkpoint dtype the config names.
			dt := hfDType(t, folder)
			logits := cpuLogits(t, folder, ref.InputIDs, arch.Options{})
			checkHFLogits(t, ref, logits)
			assert.Equal(t, logits, cpuLogits(t, folder, ref.InputIDs, arch.Options{HFDType: dt}), "config dtype vs explicit option")

			// The same model converted to shards (doppler convert, 1 MiB
			// shards) gives bit-identical logits: the manifest keeps the dtype.
			shardDir := convertToShards(t, folder)
			assert.Equal(t, logits, cpuLogits(t, shardDir, ref.InputIDs, arch.Options{}), "shard folder vs HF folder")

			// Without emulating HF's rounded RoPE frequencies, bf16 models
			// still match closely: the rounding moves logits by < 5e-3.
			if dt == dtype.BF16 {
				exact := cpuLogits(t, folder, ref.InputIDs, arch.Options{Exact: true})
				assert.NotEqual(t, logits, exact, "Exact ignores the config's dtype")
				checkHFLogitsWithin(t, ref, exact, 5e-3)
			}
		})
	}
}

// hfFolder returns a loadable folder for a fixture. config4x holds only a
// config.json (transformers 4.x style) for gemma3-f32's weights, so it is
// assembled in a temporary folder.
func hfFolder(t *testing.T, dir, name string) string {
	if name != "gemma3-f32-config4x" {
		return filepath.Join(dir, name)
	}
	tmp := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(dir, name, "config.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "config.json"), cfg, 0o644))
	require.NoError(t, os.Symlink(filepath.Join(dir, "gemma3-f32", "model.safetensors"), filepath.Join(tmp, "model.safetensors")))
	return tmp
}

func readHFReference(t *testing.T, path string) hfReference {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var r hfReference
	require.NoError(t, json.Unmarshal(b, &r))
	require.Len(t, r.Logits, len(r.InputIDs))
	return r
}

// convertToShards runs the converter (keep dtypes, 1 MiB shards) into a
// temporary folder.
func convertToShards(t *testing.T, folder string) string {
	t.Helper()
	src, err := model.Open(folder)
	require.NoError(t, err)
	defer src.Close()
	out := filepath.Join(t.TempDir(), "shards")
	fsys, rel, err := model.NativeFS(out)
	require.NoError(t, err)
	_, err = model.Convert(src, fsys, rel, model.ConvertOptions{DType: "keep", ShardSize: 1 << 20})
	require.NoError(t, err)
	return out
}

func checkHFLogits(t *testing.T, r hfReference, logits [][]float32) {
	t.Helper()
	checkHFLogitsWithin(t, r, logits, hfTolerance)
}

func checkHFLogitsWithin(t *testing.T, r hfReference, logits [][]float32, tol float64) {
	t.Helper()
	require.Len(t, logits, len(r.InputIDs))
	worst := 0.0
	for i, got := range logits {
		want := r.Logits[strconv.Itoa(i)]
		require.Len(t, got, len(want), "vocabulary at position %d", i)
		for j := range want {
			d := float64(got[j] - want[j])
			if d < 0 {
				d = -d
			}
			worst = max(worst, d)
		}
		assert.Equal(t, r.Argmax[i], sample.Argmax(got), "argmax at position %d", i)
	}
	assert.LessOrEqual(t, worst, tol, "max |logit - HF| over all positions")
	t.Logf("max |logit - HF| = %.2e", worst)
}

// hfDType is the dtype HF loaded the fixture in (config.json "dtype", or
// "torch_dtype" in 4.x configs): HF then keeps RoPE's inverse frequencies in
// that dtype, which shifts bf16 logits by up to 4.5e-3 at late positions.
func hfDType(t *testing.T, folder string) dtype.DType {
	b, err := os.ReadFile(filepath.Join(folder, "config.json"))
	require.NoError(t, err)
	var c struct {
		DType      string `json:"dtype"`
		TorchDType string `json:"torch_dtype"`
	}
	require.NoError(t, json.Unmarshal(b, &c))
	switch c.DType + c.TorchDType {
	case "bfloat16":
		return dtype.BF16
	case "float16":
		return dtype.F16
	}
	return dtype.F32
}

// cpuLogits runs the CPU reference over ids in one prefill, all positions.
func cpuLogits(t *testing.T, path string, ids []int32, o arch.Options) [][]float32 {
	t.Helper()
	src, err := model.Open(path)
	require.NoError(t, err)
	defer src.Close()
	be := ref.New()
	m, err := arch.LoadWith(src, be, o)
	require.NoError(t, err)
	logits, err := arch.NewRunner(m, be, 1, len(ids)).Feed([]int{0}, [][]int32{ids}, true)
	require.NoError(t, err)
	return logits
}
