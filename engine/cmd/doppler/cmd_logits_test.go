package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
)

// logits on an HF fixture reproduces transformers' logits (the arch tests
// cover every fixture; this checks the command's plumbing and JSON).
func TestLogitsCPU(t *testing.T) {
	d, err := refdata.HFFixturesDir()
	dir := refdata.Must(t, d, err)
	ref := refdata.MustHFReference(t, filepath.Join(dir, "qwen3-f32"))
	ids := ref.InputIDs[:6]
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.Itoa(int(id))
	}
	var out, errb bytes.Buffer
	code := runMain([]string{"logits", "--model", filepath.Join(dir, "qwen3-f32"), "--tokens", strings.Join(strs, ","), "--json"}, &out, &errb)
	require.Equal(t, 0, code, errb.String())
	var got struct{ Logits [][]float32 }
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got.Logits, len(ids))
	for i := range ids {
		assert.InDeltaSlice(t, ref.Logits[strconv.Itoa(i)], got.Logits[i], 1e-3, "position %d", i)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"no tokens", []string{"logits", "--model", "x"}, 2},
		{"empty tokens", []string{"logits", "--model", "x", "--tokens", ","}, 2},
		{"negative", []string{"logits", "--model", "x", "--tokens", "-1"}, 2},
		{"positional", []string{"logits", "--model", "x", "--tokens", "1", "extra"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, tt.code, runMain(tt.args, &out, &errb), errb.String())
		})
	}
}
