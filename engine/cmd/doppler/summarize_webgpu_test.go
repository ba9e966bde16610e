//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/synth"
)

// summarize --backend webgpu (through the Node + Dawn host) writes the
// CPU's greedy summary: one chunk on stories260K and a tiny Gemma 3, and a
// long text split into chunks whose summaries decode together as a batch.
func TestSummarizeWebGPUMatchesCPU(t *testing.T) {
	dir := t.TempDir()
	// Seeds whose summaries are not empty text (synth vocabularies hold
	// many pieces that print nothing).
	gemma := map[uint64]string{}
	for _, seed := range []uint64{0, 3} {
		gemma[seed] = filepath.Join(dir, fmt.Sprintf("gemma3-%d.gguf", seed))
		_, err := synth.WriteFile(gemma[seed], synth.Options{Arch: "gemma3", Shape: "tiny", Seed: seed})
		require.NoError(t, err)
	}
	var b strings.Builder
	for i := range 12 {
		b.WriteString("The council met again and talked about the new bike lane on Main Street for a long while. ")
		if i%5 == 4 {
			b.WriteString("\n\n")
		}
	}
	page := filepath.Join(dir, "page.txt")
	require.NoError(t, os.WriteFile(page, []byte(b.String()), 0o644))
	short := []string{"--text", "Lily had a red ball. She played in the park with her dog.", "--type", "tldr"}
	tests := []struct {
		name   string
		args   []string
		chunks int // at least
	}{
		{"stories260K", append([]string{"--model", storiesModel(t), "--max-tokens", "24"}, short...), 1},
		{"gemma3", append([]string{"--model", gemma[0], "--max-tokens", "12"}, short...), 1},
		{"gemma3 chunked", []string{"--model", gemma[3], "--file", page, "--context", "512", "--max-tokens", "8"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cpu, code, msg := runSummarizeCLI(t, append([]string{"--backend", "cpu", "--json"}, tc.args...)...)
			require.Equal(t, 0, code, msg)
			gpu, code, msg := runSummarizeCLI(t, append([]string{"--backend", "webgpu", "--precision", "f32", "--json"}, tc.args...)...)
			require.Equal(t, 0, code, msg)
			assert.GreaterOrEqual(t, cpu.Chunks, tc.chunks)
			assert.NotEmpty(t, cpu.Text)
			assert.Equal(t, cpu, gpu)
		})
	}
}
