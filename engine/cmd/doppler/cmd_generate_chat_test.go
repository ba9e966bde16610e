package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/synth"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// generate --chat works on every synthetic architecture (each ships its
// family's published chat template) and feeds exactly the template's tokens.
func TestGenerateChatEveryArch(t *testing.T) {
	for _, arch := range synth.Archs {
		t.Run(arch, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), arch+".gguf")
			_, err := synth.WriteFile(path, synth.Options{Arch: arch, Shape: "tiny", DType: "q8_0", Seed: 5})
			require.NoError(t, err)
			src, err := model.Open(path)
			require.NoError(t, err)
			tok, err := tokenizer.FromMetadata(src.Metadata())
			src.Close()
			require.NoError(t, err)
			ids, err := tok.ChatTokens([]tokenizer.Message{{Role: "user", Content: "Say hello"}}, true)
			require.NoError(t, err)
			strs := make([]string, len(ids))
			for i, id := range ids {
				strs[i] = strconv.Itoa(int(id))
			}

			base := []string{"generate", "--backend", "cpu", "--model", path, "--max-tokens", "2", "--ignore-eos", "--json"}
			chat, code, msg := runCLI(t, append(base, "--prompt", "Say hello", "--chat")...)
			require.Equal(t, 0, code, msg)
			byTokens, code, msg := runCLI(t, append(base, "--tokens", strings.Join(strs, ","))...)
			require.Equal(t, 0, code, msg)
			assert.Equal(t, byTokens, chat)
			assert.Len(t, chat.Tokens, 2)
		})
	}
}
