package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/synth"
)

func runSummarizeCLI(t *testing.T, args ...string) (summary, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(append([]string{"summarize"}, args...), &out, &errb)
	var s summary
	if code == 0 && bytes.HasPrefix(out.Bytes(), []byte("{")) {
		require.NoError(t, json.Unmarshal(out.Bytes(), &s), out.String())
	}
	return s, code, errb.String()
}

func TestSummarizeCLI(t *testing.T) {
	p, err := refdata.Stories260K()
	stories := refdata.Must(t, p, err)
	s, code, msg := runSummarizeCLI(t, "--backend", "cpu", "--model", stories, "--text", "Lily had a red ball. She played in the park.", "--max-tokens", "12", "--type", "tldr", "--json")
	require.Equal(t, 0, code, msg)
	assert.Equal(t, 1, s.Chunks)
	assert.NotEmpty(t, s.Text)
	assert.Greater(t, s.PromptTokens, 50)
	assert.Contains(t, []string{"eos", "length"}, s.Stop)
	assert.Empty(t, s.Note)

	// The same request twice gives the same (greedy) text.
	s2, code, msg := runSummarizeCLI(t, "--backend", "cpu", "--model", stories, "--text", "Lily had a red ball. She played in the park.", "--max-tokens", "12", "--type", "tldr", "--json")
	require.Equal(t, 0, code, msg)
	assert.Equal(t, s, s2)
}

func TestSummarizeCLILongInput(t *testing.T) {
	dir := t.TempDir()
	tiny := filepath.Join(dir, "tiny.gguf")
	_, err := synth.WriteFile(tiny, synth.Options{Arch: "gemma3", Shape: "tiny"})
	require.NoError(t, err)
	var b strings.Builder
	for i := range 12 {
		b.WriteString("The council met again and talked about the new bike lane on Main Street for a long while. ")
		if i%5 == 4 {
			b.WriteString("\n\n")
		}
	}
	file := filepath.Join(dir, "page.txt")
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o644))
	s, code, msg := runSummarizeCLI(t, "--backend", "cpu", "--model", tiny, "--file", file, "--context", "512", "--max-tokens", "8", "--json")
	require.Equal(t, 0, code, msg)
	assert.Greater(t, s.Chunks, 1)
	assert.Contains(t, s.Note, "Summarized in")
	assert.Contains(t, []string{"eos", "length"}, s.Stop)
}

func TestSummarizeCLIUsage(t *testing.T) {
	tests := [][]string{
		{"--text", "x"},
		{"--model", "m.gguf"},
		{"--model", "m.gguf", "--text", "x", "--file", "f"},
		{"--model", "m.gguf", "--text", "x", "--type", "bullets"},
		{"--model", "m.gguf", "--text", "x", "--backend", "tpu"},
	}
	for _, args := range tests {
		_, code, msg := runSummarizeCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, msg)
	}
	_, code, msg := runSummarizeCLI(t, "--backend", "cpu", "--model", filepath.Join(t.TempDir(), "missing.gguf"), "--text", "x")
	assert.Equal(t, 1, code, msg)
}
