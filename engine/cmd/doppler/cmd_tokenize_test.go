package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/stretchr/testify/require"
)

func TestTokenizeStories260K(t *testing.T) {
	p, err := refdata.Stories260K()
	model := refdata.Must(t, p, err)
	run := func(args ...string) (map[string]any, int, string) {
		var out, errb bytes.Buffer
		code := runMain(append([]string{"tokenize", "--model", model, "--json"}, args...), &out, &errb)
		var v map[string]any
		if code == 0 {
			require.NoError(t, json.Unmarshal(out.Bytes(), &v), out.String())
		}
		return v, code, errb.String()
	}
	v, code, _ := run("Once upon a time")
	require.Equal(t, 0, code)
	require.Equal(t, []any{1.0, 403.0, 407.0, 261.0, 378.0}, v["tokens"])

	v, code, _ = run("--no-special", "Once upon a time")
	require.Equal(t, 0, code)
	require.Equal(t, []any{403.0, 407.0, 261.0, 378.0}, v["tokens"])

	batch := filepath.Join(t.TempDir(), "b.json")
	require.NoError(t, os.WriteFile(batch, []byte(`["Once upon a time", ""]`), 0o644))
	v, code, _ = run("--batch", batch)
	require.Equal(t, 0, code)
	require.Equal(t, []any{[]any{1.0, 403.0, 407.0, 261.0, 378.0}, []any{1.0}}, v["tokens"])

	_, code, msg := run()
	require.Equal(t, 2, code, msg)
	_, code, msg = run("--model", filepath.Join(t.TempDir(), "missing.gguf"), "x")
	require.Equal(t, 1, code, msg)
}
