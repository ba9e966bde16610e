//go:build js && wasm

package runtime

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/sample"
)

type hfReference struct {
	InputIDs []int32              `json:"input_ids"`
	Argmax   []int32              `json:"argmax_per_position"`
	Logits   map[string][]float32 `json:"logits"`
}

// hfCase is a fixture folder and the HF dtype its reference ran in (HF
// rounds RoPE frequencies and Gemma's embedding scale to it; arch.Options
// emulates that so f32 activations match within 1e-3).
var hfCases = []struct {
	name string
	dt   dtype.DType
}{
	{"gemma2-bf16", dtype.BF16},
	{"gemma3-bf16-sharded", dtype.BF16},
	{"gemma3-f32", dtype.F32},
	{"gemma3-f32-config4x", dtype.F32},
	{"llama3-ropescaled-f16", dtype.F16},
	{"mixtral-f32", dtype.F32},
	{"qwen3-f32", dtype.F32},
	{"qwen3moe-f32", dtype.F32},
}

// Every HF fixture's logits on WebGPU: within 1e-3 with equal argmaxes in
// f32; within 2e-2 in f16, argmax equal wherever HF's top-2 margin exceeds
// 4e-2.
func TestHFFixturesLogits(t *testing.T) {
	d, err := refdata.HFFixturesDir()
	dir := refdata.Must(t, d, err)
	dev := sharedDevice(t)
	for _, tc := range hfCases {
		for _, prec := range []string{"f32", "f16"} {
			t.Run(tc.name+"/"+prec, func(t *testing.T) {
				if prec == "f16" && !dev.HasFeature("shader-f16") {
					t.Skip("the device has no shader-f16")
				}
				folder := filepath.Join(dir, tc.name)
				if tc.name == "gemma3-f32-config4x" {
					folder = t.TempDir()
					cfg, err := os.ReadFile(filepath.Join(dir, tc.name, "config.json"))
					require.NoError(t, err)
					require.NoError(t, os.WriteFile(filepath.Join(folder, "config.json"), cfg, 0o644))
					require.NoError(t, os.Symlink(filepath.Join(dir, "gemma3-f32", "model.safetensors"), filepath.Join(folder, "model.safetensors")))
				}
				raw, err := os.ReadFile(filepath.Join(dir, tc.name, "reference.json"))
				require.NoError(t, err)
				var ref hfReference
				require.NoError(t, json.Unmarshal(raw, &ref))
				src, err := model.Open(folder)
				require.NoError(t, err)
				defer src.Close()
				m, err := Load(testCtx(t), src, LoadOptions{Precision: prec, Device: dev, Arch: arch.Options{HFDType: tc.dt}})
				require.NoError(t, err)
				s, err := m.NewSession(1, len(ref.InputIDs))
				require.NoError(t, err)
				defer s.Close()
				logits, err := s.Logits(testCtx(t), 0, ref.InputIDs, true)
				require.NoError(t, err)
				require.Len(t, logits, len(ref.InputIDs))
				tol, margin := 1e-3, 0.0
				if dev.Info.Adapter.IsFallbackAdapter {
					// SwiftShader's transcendentals are less exact: its f32
					// Gemma logits land up to 1.1e-3 from HF's.
					tol = 2e-3
				}
				if prec == "f16" {
					tol, margin = 2e-2, 4e-2
				}
				var worst float64
				for i, row := range logits {
					want := ref.Logits[strconv.Itoa(i)]
					require.Len(t, row, len(want))
					for j := range want {
						worst = math.Max(worst, math.Abs(float64(row[j]-want[j])))
					}
					if top2Margin(want) > margin {
						assert.Equal(t, ref.Argmax[i], sample.Argmax(row), "argmax at position %d", i)
					}
				}
				assert.LessOrEqual(t, worst, tol)
				t.Logf("max |webgpu - HF| = %.2e on %s %v", worst, dev.Info.Adapter.Description, dev.Info.Features)
			})
		}
	}
}

func top2Margin(l []float32) float64 {
	s := append([]float32(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] > s[j] })
	return float64(s[0] - s[1])
}

// Sliding-window layers keep ring caches of Window + MaxChunk - 1
// positions. With chunks of 3 rows (gemma3-f32: window 6, so rings of 8
// for 28 tokens), chunked prefill and decode past the window give what
// full-length caches give.
func TestRingCaches(t *testing.T) {
	d, err := refdata.HFFixturesDir()
	dir := refdata.Must(t, d, err)
	raw, err := os.ReadFile(filepath.Join(dir, "gemma3-f32", "reference.json"))
	require.NoError(t, err)
	var ref hfReference
	require.NoError(t, json.Unmarshal(raw, &ref))
	src, err := model.Open(filepath.Join(dir, "gemma3-f32"))
	require.NoError(t, err)
	defer src.Close()
	run := func(chunk int) ([][]float32, []int32, *Session) {
		m, err := Load(testCtx(t), src, LoadOptions{Precision: "f32", Device: sharedDevice(t), MaxChunk: chunk})
		require.NoError(t, err)
		t.Cleanup(m.Close)
		s, err := m.NewSession(1, 64)
		require.NoError(t, err)
		t.Cleanup(s.Close)
		logits, err := s.Logits(testCtx(t), 0, ref.InputIDs, true)
		require.NoError(t, err)
		res, err := s.Generate(testCtx(t), [][]int32{ref.InputIDs[:4]}, GenOptions{MaxTokens: 24, StepsPerSubmit: 4})
		require.NoError(t, err)
		return logits, res[0].Tokens, s
	}
	ringLogits, ringTokens, rs := run(3)
	fullLogits, fullTokens, fs := run(256)
	var rings, fulls int
	for _, l := range rs.cache.Layers {
		if l.(*kv).cacheLen < 64 {
			rings++
			assert.Equal(t, 6+3-1, l.(*kv).cacheLen)
		}
	}
	for _, l := range fs.cache.Layers {
		if l.(*kv).cacheLen == 64 {
			fulls++
		}
	}
	assert.Equal(t, 5, rings, "gemma3-f32 has 5 sliding layers")
	assert.Equal(t, 6, fulls)
	require.Len(t, ringLogits, len(ref.InputIDs))
	for i := range ringLogits {
		for j := range ringLogits[i] {
			require.InDelta(t, fullLogits[i][j], ringLogits[i][j], 1e-5, "position %d", i)
			require.InDelta(t, ref.Logits[strconv.Itoa(i)][j], ringLogits[i][j], 1e-3, "position %d vs HF", i)
		}
	}
	assert.Equal(t, fullTokens, ringTokens)
}

// Loading reports progress tensor by tensor up to the total.
func TestLoadProgress(t *testing.T) {
	var seen []Progress
	m, err := Load(testCtx(t), openStories(t), LoadOptions{Precision: "f32", Device: sharedDevice(t),
		Progress: func(p Progress) { seen = append(seen, p) }})
	require.NoError(t, err)
	defer m.Close()
	require.Len(t, seen, 48, "stories260K has 48 tensors")
	for i := 1; i < len(seen); i++ {
		assert.Greater(t, seen[i].Done, seen[i-1].Done)
	}
	last := seen[len(seen)-1]
	assert.Equal(t, last.Total, last.Done)
	assert.Equal(t, uint64(last.Total), m.WeightBytes())
}
