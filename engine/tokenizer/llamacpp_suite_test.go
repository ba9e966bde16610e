package tokenizer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readSuite parses llama.cpp's test-tokenizer-0 pair of files.
func readSuite(t *testing.T, base string) ([]string, [][]int32) {
	inp, err := os.ReadFile(base + ".inp")
	require.NoError(t, err)
	out, err := os.ReadFile(base + ".out")
	require.NoError(t, err)
	cases := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	if cases[len(cases)-1] == "" {
		cases = cases[:len(cases)-1]
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(cases), "%s: .inp and .out disagree on the number of cases", base)
	want := make([][]int32, len(lines))
	for i, l := range lines {
		want[i] = []int32{}
		for _, f := range strings.Fields(l) {
			v, err := strconv.Atoi(f)
			require.NoError(t, err)
			want[i] = append(want[i], int32(v))
		}
	}
	return cases, want
}

func TestLlamaCppSuite(t *testing.T) {
	d, err := refdata.TokenizerTestsDir()
	dir := refdata.Must(t, d, err)
	vocabs := []string{"llama-spm", "phi-3", "gpt-2", "llama-bpe", "qwen2", "qwen35", "gemma-4"}
	total := 0
	for _, v := range vocabs {
		t.Run(v, func(t *testing.T) {
			base := filepath.Join(dir, "ggml-vocab-"+v+".gguf")
			tok, err := LoadGGUF(base)
			require.NoError(t, err)
			cases, want := readSuite(t, base)
			for i, c := range cases {
				got := tok.Encode(c, false)
				if !assert.Equal(t, want[i], append([]int32{}, got...), "case %d %q", i, c) {
					continue
				}
				total++
				// Decoding gives the text back (byte-level and SPM vocabularies
				// are lossless for these inputs).
				assert.Equal(t, c, tok.Decode(got), "round trip of case %d", i)
			}
		})
	}
	t.Logf("%d cases pass", total)
}
