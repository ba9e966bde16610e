//go:build !(js && wasm)

package main

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
)

// These run --backend webgpu through the Node + Dawn host (build/wasm-exec).

func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runMain(args, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	require.NoError(t, json.Unmarshal(stdout.Bytes(), v), "stdout: %s", stdout.String())
}

func storiesModel(t *testing.T) string {
	p, err := refdata.Stories260K()
	return refdata.Must(t, p, err)
}

func TestGenerateWebGPU(t *testing.T) {
	m := storiesModel(t)
	for _, steps := range []string{"1", "16"} {
		var g generation
		runJSON(t, &g, "generate", "--backend", "webgpu", "--precision", "f32", "--model", m, "--tokens", "1,403,407,261,378",
			"--max-tokens", "32", "--temperature", "0", "--steps-per-submit", steps, "--json")
		assert.Equal(t, storiesGreedy, g.Tokens, "steps per submit %s", steps)
		assert.Equal(t, "length", g.Stop)
		assert.Equal(t, ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw", g.Text)
	}
}

// Sampled generation on the GPU gives the CPU backend's tokens for a seed.
func TestGenerateWebGPUSampledMatchesCPU(t *testing.T) {
	m := storiesModel(t)
	args := []string{"generate", "--model", m, "--tokens", "1,403,407,261,378", "--max-tokens", "24",
		"--temperature", "0.8", "--top-p", "0.9", "--repeat-penalty", "1.1", "--seed", "12", "--json"}
	var gpu, cpu generation
	runJSON(t, &gpu, append(args, "--backend", "webgpu", "--precision", "f32", "--steps-per-submit", "4")...)
	runJSON(t, &cpu, append(args, "--backend", "cpu")...)
	assert.Len(t, cpu.Tokens, 24)
	assert.NotEqual(t, storiesGreedy[:24], cpu.Tokens, "sampled, not greedy")
	assert.Equal(t, cpu.Tokens, gpu.Tokens)
}

func TestLogitsWebGPUMatchesCPU(t *testing.T) {
	m := storiesModel(t)
	var gpu, cpu struct{ Logits [][]float32 }
	runJSON(t, &gpu, "logits", "--backend", "webgpu", "--precision", "f32", "--model", m, "--tokens", "1,403,407,261,378", "--json")
	runJSON(t, &cpu, "logits", "--backend", "cpu", "--model", m, "--tokens", "1,403,407,261,378", "--json")
	require.Len(t, gpu.Logits, 5)
	for i := range cpu.Logits {
		require.Len(t, gpu.Logits[i], len(cpu.Logits[i]))
		for j := range cpu.Logits[i] {
			require.InDelta(t, cpu.Logits[i][j], gpu.Logits[i][j], 1e-4, "position %d logit %d", i, j)
		}
	}
}

func TestVerifyAndBenchJSON(t *testing.T) {
	m := storiesModel(t)
	var v struct {
		Ops []struct {
			Layer      int     `json:"layer"`
			Op         string  `json:"op"`
			MaxAbsDiff float64 `json:"max_abs_diff"`
			OK         bool    `json:"ok"`
		} `json:"ops"`
		FirstDivergence *map[string]any `json:"first_divergence"`
	}
	runJSON(t, &v, "verify", "--model", m, "--tokens", "1,403,407,261,378", "--precision", "f32", "--json")
	assert.Nil(t, v.FirstDivergence)
	require.Len(t, v.Ops, 78)
	assert.Equal(t, "embed", v.Ops[0].Op)
	assert.Equal(t, -1, v.Ops[0].Layer)
	for _, o := range v.Ops {
		assert.True(t, o.OK, "%+v", o)
	}

	var b map[string]any
	runJSON(t, &b, "bench", "--model", m, "--prompt-tokens", "16", "--gen-tokens", "9", "--steps-per-submit", "4", "--precision", "f32", "--json")
	for _, k := range []string{"prefill_tok_s", "decode_tok_s", "ttft_ms", "load_ms", "gpu_bytes", "dispatches_per_token", "js_calls_per_token", "weight_bytes_per_token"} {
		f, ok := b[k].(float64)
		require.True(t, ok, "%s: %v", k, b[k])
		assert.Greater(t, f, 0.0, k)
		assert.False(t, math.IsInf(f, 0) || math.IsNaN(f), k)
	}
	assert.NotEmpty(t, b["device"])
	assert.Equal(t, "f32", b["precision"], "the activations it ran with")
	// stories260K: 5 blocks of 9 dispatches (the norm, or the add and norm
	// in one; q, k and v projections; q/k RoPE; attention and its combine;
	// o; add and norm; gate, up and GLU; down), then the last add and the
	// final norm in one, head and two argmax passes (a decode step gathers
	// no rows).
	// (GPUs fuse further: the q/k RoPE into the attention, norms into the
	// GEMVs after them; lavapipe, a software adapter, keeps these launches.)
	assert.Equal(t, 50.0, b["dispatches_per_token"])
	assert.NotContains(t, b, "temperature")
	// A token reads every weight but the embedding table, and one row of
	// that (the q/k/v GEMV's three weights included).
	assert.Equal(t, float64(storiesTokenBytes(t, m)), b["weight_bytes_per_token"])

	// Sampled decoding: the sampler's four passes (copy, penalty, block
	// candidates, draw) replace argmax's two, with the JS calls of greedy
	// decoding (no logits read back).
	var sb map[string]any
	runJSON(t, &sb, "bench", "--model", m, "--prompt-tokens", "16", "--gen-tokens", "9", "--steps-per-submit", "4", "--precision", "f32",
		"--temperature", "0.8", "--json")
	assert.Equal(t, 0.8, sb["temperature"])
	assert.Equal(t, b["dispatches_per_token"].(float64)+2, sb["dispatches_per_token"])
	assert.Equal(t, b["js_calls_per_token"], sb["js_calls_per_token"])
	assert.Greater(t, sb["decode_tok_s"], 0.0)

	// A short history in a longer session (the extension's reused one):
	// its decode graphs are recorded for the positions they reach.
	var cb map[string]any
	runJSON(t, &cb, "bench", "--model", m, "--prompt-tokens", "16", "--gen-tokens", "9", "--steps-per-submit", "4", "--precision", "f32",
		"--context", "512", "--json")
	assert.Equal(t, 512.0, cb["context"])
	assert.Equal(t, b["dispatches_per_token"], cb["dispatches_per_token"])
	assert.Greater(t, cb["decode_tok_s"], 0.0)
	assert.NotContains(t, b, "context")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 1, runMain([]string{"bench", "--model", m, "--prompt-tokens", "16", "--gen-tokens", "9", "--context", "20"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "a context of 20 is shorter than 16 prompt + 9 generated tokens")
}

func TestVerifyBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"verify", "--model", "x.gguf"},
		{"verify", "--model", "x.gguf", "--tokens", "1", "--backend", "cpu"},
		{"bench", "--model", "x.gguf", "--gen-tokens", "1"},
		{"bench", "--model", "x.gguf", "--max-chunk", "-1"},
		{"bench", "--model", "x.gguf", "--temperature", "-0.5"},
		{"bench", "--model", "x.gguf", "--context", "-1"},
		{"bench"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, runMain(args, &stdout, &stderr), "%v: %s", args, stderr.String())
	}
}

// storiesTokenBytes is the weight bytes a decode step of the GGUF at path
// reads, from its tensor table: all tensors but token_embd, and one row
// of it (its output head is a tensor of its own).
func storiesTokenBytes(t *testing.T, path string) int64 {
	t.Helper()
	g, err := gguf.ReadFile(path)
	require.NoError(t, err)
	var n int64
	for _, ti := range g.Tensors {
		b, err := ti.Bytes()
		require.NoError(t, err)
		if ti.Name == "token_embd.weight" {
			b /= ti.Shape[1]
		}
		n += b
	}
	return n
}
