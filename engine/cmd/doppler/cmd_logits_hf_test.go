package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
)

// The plain command line reproduces transformers on every HF fixture: within
// 1e-3 at every position with the same argmax, straight from the HF folder
// and, bit-identically, from its converted shard folder. bf16 checkpoints
// only match this closely because the config's dtype reaches arch.Load.
func TestLogitsHFFixturesCLI(t *testing.T) {
	d, err := refdata.HFFixturesDir()
	dir := refdata.Must(t, d, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			ref := refdata.MustHFReference(t, filepath.Join(dir, e.Name()))
			folder := refdata.HFFixtureFolder(t, dir, e.Name())
			tokens := joinIDs(ref.InputIDs)

			fromHF := cliLogits(t, folder, tokens)
			checkAgainstHF(t, ref, fromHF)

			shards := filepath.Join(t.TempDir(), "shards")
			var out, errb bytes.Buffer
			code := runMain([]string{"convert", folder, "-o", shards, "--shard-size", "1048576", "--json"}, &out, &errb)
			require.Equal(t, 0, code, errb.String())
			assert.Equal(t, fromHF, cliLogits(t, shards, tokens), "shard folder vs HF folder")
		})
	}
	assert.Equal(t, 8, n, "fixture folders")
}

// The config-only folder cannot be loaded by itself: the command says what
// is missing.
func TestLogitsConfigOnlyFolder(t *testing.T) {
	d, err := refdata.HFFixturesDir()
	dir := refdata.Must(t, d, err)
	var out, errb bytes.Buffer
	code := runMain([]string{"logits", "--model", filepath.Join(dir, refdata.HFConfig4x), "--tokens", "2,3", "--json"}, &out, &errb)
	assert.Equal(t, 1, code)
	assert.Contains(t, errb.String(), ".safetensors")
	assert.Empty(t, out.String())
}

// readFixtureRef reads the reference.json at path (logits_hf_webgpu_test.go
// calls it).
func readFixtureRef(t *testing.T, path string) refdata.HFReference {
	t.Helper()
	return refdata.MustHFReference(t, filepath.Dir(path))
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// cliLogits runs `logits --backend cpu --json` in-process.
func cliLogits(t *testing.T, model, tokens string) [][]float32 {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain([]string{"logits", "--backend", "cpu", "--model", model, "--tokens", tokens, "--json"}, &out, &errb)
	require.Equal(t, 0, code, errb.String())
	var got struct{ Logits [][]float32 }
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	return got.Logits
}

// checkAgainstHF applies the fixtures' criterion: |logit - HF| <= 1e-3 at
// every position (the closest top-2 gap is 1.8e-3) and equal argmaxes.
func checkAgainstHF(t *testing.T, ref refdata.HFReference, logits [][]float32) {
	t.Helper()
	refdata.CheckHFLogits(t, ref, logits, refdata.HFTolerance)
}
