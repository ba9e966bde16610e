package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doppler runs the CLI in-process and decodes --json output.
func doppler(t *testing.T, args ...string) (map[string]any, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(args, &out, &errb)
	var v map[string]any
	if out.Len() > 0 && strings.HasPrefix(out.String(), "{") {
		require.NoError(t, json.Unmarshal(out.Bytes(), &v), out.String())
	}
	return v, code, errb.String()
}

func TestSynthConvertInspectCLI(t *testing.T) {
	dir := t.TempDir()
	gg := filepath.Join(dir, "g.gguf")
	v, code, msg := doppler(t, "synth", "-o", gg, "--arch", "gemma3", "--shape", "tiny", "--dtype", "q8_0", "--seed", "5", "--json")
	require.Equal(t, 0, code, msg)
	assert.Equal(t, gg, v["path"])
	st, err := os.Stat(gg)
	require.NoError(t, err)
	assert.Equal(t, float64(st.Size()), v["bytes"])
	assert.Greater(t, v["params"], 1e6)

	shards := filepath.Join(dir, "shards")
	v, code, msg = doppler(t, "convert", gg, "-o", shards, "--shard-size", "1048576", "--json")
	require.Equal(t, 0, code, msg)
	assert.Equal(t, filepath.Join(shards, "manifest.json"), v["manifest"])
	assert.Greater(t, v["shards"], 1.0)

	for _, m := range []string{gg, shards} {
		v, code, msg = doppler(t, "inspect", m, "--json")
		require.Equal(t, 0, code, msg)
		assert.Equal(t, "gemma3", v["architecture"])
		assert.Equal(t, true, v["valid"])
		assert.Empty(t, v["problems"])
		hp := v["hparams"].(map[string]any)
		assert.Equal(t, 256.0, hp["hidden_size"])
		assert.Equal(t, true, hp["post_ffn_norm"])
		tok := v["tokenizer"].(map[string]any)
		assert.Equal(t, "llama", tok["model"])
		assert.Equal(t, 4096.0, tok["vocab_size"])
		assert.Equal(t, true, tok["has_chat_template"])
		ts := v["tensors"].([]any)
		assert.Equal(t, map[string]any{"name": "token_embd.weight", "shape": []any{256.0, 4096.0}, "dtype": "Q8_0"}, ts[0])
	}

	// Human output.
	var out, errb bytes.Buffer
	require.Equal(t, 0, runMain([]string{"inspect", gg}, &out, &errb))
	assert.Contains(t, out.String(), "architecture  gemma3")
	assert.Contains(t, out.String(), "valid")
}

// The seed's bug: a manifest saying post_ffn_norm false while the
// post-feedforward norm tensors exist must fail loudly, naming both.
func TestInspectInvalidManifest(t *testing.T) {
	dir := t.TempDir()
	gg := filepath.Join(dir, "g.gguf")
	_, code, msg := doppler(t, "synth", "-o", gg, "--arch", "gemma2", "--shape", "tiny", "--json")
	require.Equal(t, 0, code, msg)
	shards := filepath.Join(dir, "shards")
	_, code, msg = doppler(t, "convert", gg, "-o", shards, "--json")
	require.Equal(t, 0, code, msg)

	mp := filepath.Join(shards, "manifest.json")
	raw, err := os.ReadFile(mp)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	m["config"].(map[string]any)["post_ffn_norm"] = false
	raw, err = json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(mp, raw, 0o644))

	v, code, msg := doppler(t, "inspect", shards, "--json")
	assert.Equal(t, 1, code)
	assert.Equal(t, false, v["valid"])
	first := v["problems"].([]any)[0].(map[string]any)
	assert.Equal(t, "blk.0.post_ffw_norm.weight", first["tensor"])
	assert.Equal(t, "post_ffn_norm", first["flag"])
	assert.Contains(t, msg, "blk.0.post_ffw_norm.weight")

	// Loading it for real fails too, naming tensor and flag.
	_, code, msg = doppler(t, "convert", shards, "-o", filepath.Join(dir, "again"))
	assert.Equal(t, 1, code)
	assert.Contains(t, msg, "blk.0.post_ffw_norm.weight")
	assert.Contains(t, msg, "post_ffn_norm")
}

func TestModelCLIUsage(t *testing.T) {
	for _, args := range [][]string{
		{"synth", "--arch", "gemma3"},
		{"synth", "-o", "x.gguf", "--arch", "nope"},
		{"synth", "-o", "x.gguf", "--arch", "llama", "--dtype", "q3_k"},
		{"convert", "-o", "x"},
		{"convert", "m.gguf"},
		{"convert", "m.gguf", "-o", "x", "--shard-size", "0"},
		{"inspect"},
	} {
		_, code, msg := doppler(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, msg)
	}
	_, code, msg := doppler(t, "inspect", filepath.Join(t.TempDir(), "missing.gguf"))
	assert.Equal(t, 1, code)
	assert.NotEmpty(t, msg)
	p, err := refdata.Stories260K()
	_, code, _ = doppler(t, "inspect", refdata.Must(t, p, err), "--json")
	assert.Equal(t, 0, code)
}

func TestConvertToGGUFCLI(t *testing.T) {
	root, err := refdata.HFFixturesDir()
	hf := filepath.Join(refdata.Must(t, root, err), "gemma2-bf16")
	out := filepath.Join(t.TempDir(), "g2.gguf")
	v, code, msg := doppler(t, "convert", hf, "-o", out, "--dtype", "q8_0", "--json")
	require.Equal(t, 0, code, msg)
	assert.Equal(t, out, v["path"])
	v, code, msg = doppler(t, "inspect", out, "--json")
	require.Equal(t, 0, code, msg)
	assert.Equal(t, "gemma2", v["architecture"])
	hp := v["hparams"].(map[string]any)
	assert.Equal(t, 50.0, hp["attn_logit_softcap"])
	assert.Equal(t, []any{true, false, true, false}, hp["sliding_layers"])
}
