package arch_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
)

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
	d, err := refdata.HFFixturesDir()
	dir := refdata.Must(t, d, err)
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
			folder := refdata.HFFixtureFolder(t, dir, name)
			ref := refdata.MustHFReference(t, filepath.Join(dir, name))
			// Plain loading follows the checkpoint dtype the config names.
			dt := hfDType(t, folder)
			logits := cpuLogits(t, folder, ref.InputIDs, arch.Options{})
			refdata.CheckHFLogits(t, ref, logits, refdata.HFTolerance)
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
				refdata.CheckHFLogits(t, ref, exact, 5e-3)
			}
		})
	}
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
