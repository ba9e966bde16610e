//go:build !(js && wasm)

package main

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/sample"
)

// logits --backend webgpu on the HF fixtures that need more than dense f32
// kernels: bf16 checkpoints (the config's dtype reaches the WebGPU load
// without a flag) and the MoE architectures. f32 activations: within 1e-3
// with equal argmaxes; f16 (MoE): within 2e-2, argmax equal wherever HF's
// top-2 margin exceeds 4e-2.
func TestLogitsHFFixturesWebGPU(t *testing.T) {
	d, err := refdata.HFFixturesDir()
	dir := refdata.Must(t, d, err)
	tests := []struct {
		fixture   string
		precision string
	}{
		{"gemma2-bf16", "f32"},
		{"gemma3-bf16-sharded", "f32"},
		{"mixtral-f32", "f32"},
		{"mixtral-f32", "f16"},
		{"qwen3moe-f32", "f32"},
		{"qwen3moe-f32", "f16"},
	}
	for _, tc := range tests {
		t.Run(tc.fixture+"/"+tc.precision, func(t *testing.T) {
			folder := filepath.Join(dir, tc.fixture)
			ref := readFixtureRef(t, filepath.Join(folder, "reference.json"))
			var got struct{ Logits [][]float32 }
			runJSON(t, &got, "logits", "--backend", "webgpu", "--precision", tc.precision, "--model", folder, "--tokens", joinIDs(ref.InputIDs), "--json")
			if tc.precision == "f32" {
				checkAgainstHF(t, ref, got.Logits)
				return
			}
			require.Len(t, got.Logits, len(ref.InputIDs))
			worst := 0.0
			for i, row := range got.Logits {
				want := ref.Logits[strconv.Itoa(i)]
				require.Len(t, row, len(want))
				first, second := math.Inf(-1), math.Inf(-1)
				for j := range want {
					worst = max(worst, math.Abs(float64(row[j]-want[j])))
					if w := float64(want[j]); w > first {
						first, second = w, first
					} else if w > second {
						second = w
					}
				}
				if first-second > 4e-2 {
					assert.Equal(t, ref.Argmax[i], sample.Argmax(row), "argmax at position %d", i)
				}
			}
			assert.LessOrEqual(t, worst, 2e-2)
			t.Logf("max |logit - HF| = %.2e", worst)
		})
	}
}
