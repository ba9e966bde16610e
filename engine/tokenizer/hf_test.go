package tokenizer

import (
	"bytes"
	"testing"

	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHFToMetadataKeys(t *testing.T) {
	g := hfMeta(t, "gemma3")
	assert.Equal(t, "llama", g[KeyModel])
	assert.Equal(t, false, g[KeyAddSpacePrefix])
	assert.Equal(t, true, g[KeyAddBOS])
	assert.Equal(t, false, g[KeyAddEOS])
	assert.Equal(t, uint32(2), g[KeyBOS])
	assert.Equal(t, uint32(106), g[KeyEOS]) // tokenizer_config: <end_of_turn>
	assert.Equal(t, uint32(3), g[KeyUnknown])
	assert.Len(t, g[KeyTokens], 262145)
	types := g[KeyTokenType].([]int32)
	assert.Equal(t, TypeControl, types[105])     // <start_of_turn>
	assert.Equal(t, TypeUserDefined, types[107]) // "\n"
	assert.Equal(t, TypeByte, types[303])        // <0x41>
	assert.Equal(t, TypeUnknown, types[3])
	assert.NotEmpty(t, g[KeyChatTemplate])
	assert.Len(t, g[KeyScores], 262145)

	q := hfMeta(t, "qwen3")
	assert.Equal(t, "gpt2", q[KeyModel])
	assert.Equal(t, "qwen2", q[KeyPre])
	assert.Equal(t, "nfc", q[KeyNormalizer])
	assert.Equal(t, false, q[KeyAddBOS])
	assert.NotContains(t, q, KeyBOS)
	assert.NotContains(t, q, KeyScores)

	for _, bad := range []string{
		`{"model":{"type":"Unigram"}}`,
		`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\d+"}},{"type":"ByteLevel","use_regex":false}]}}`,
		`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
		`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Whitespace"}}`,
		`not json`,
	} {
		_, err := HFToMetadata([]byte(bad), nil)
		assert.Error(t, err, bad)
	}
}

// The metadata HFToMetadata makes is valid GGUF: written and read back it
// builds the same tokenizer.
func TestHFMetadataThroughGGUF(t *testing.T) {
	m := hfMeta(t, "qwen3")
	w := gguf.NewWriter()
	w.Set("general.architecture", "qwen3")
	for k, v := range m {
		w.Set(k, v)
	}
	var buf bytes.Buffer
	_, err := w.WriteTo(&buf)
	require.NoError(t, err)
	f, err := gguf.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	back, err := FromMetadata(f.Metadata())
	require.NoError(t, err)
	orig, err := FromMetadata(m)
	require.NoError(t, err)
	for _, s := range loadCorpus(t) {
		require.Equal(t, orig.EncodeSpecial(s, true), back.EncodeSpecial(s, true), "%q", s)
	}
	name, err := back.TemplateName()
	require.NoError(t, err)
	assert.Equal(t, TemplateQwen3, name)
}

func TestFromMetadataErrors(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			KeyModel:  "llama",
			KeyTokens: []string{"<unk>", "<s>", "</s>", "▁a", "a"},
			KeyScores: []float32{0, 0, 0, -1, -2},
		}
	}
	_, err := FromMetadata(base())
	require.NoError(t, err)
	for name, edit := range map[string]func(m map[string]any){
		"no model":        func(m map[string]any) { delete(m, KeyModel) },
		"unknown model":   func(m map[string]any) { m[KeyModel] = "bert" },
		"no tokens":       func(m map[string]any) { delete(m, KeyTokens) },
		"short scores":    func(m map[string]any) { m[KeyScores] = []float32{0} },
		"duplicate token": func(m map[string]any) { m[KeyTokens] = []string{"a", "a"}; delete(m, KeyScores) },
		"gpt2 no merges":  func(m map[string]any) { m[KeyModel] = "gpt2"; m[KeyPre] = "qwen2" },
		"gpt2 no pre":     func(m map[string]any) { m[KeyModel] = "gpt2"; m[KeyMerges] = []string{"a b"} },
		"unknown pre":     func(m map[string]any) { m[KeyModel] = "gpt2"; m[KeyPre] = "tekken"; m[KeyMerges] = []string{"a b"} },
		"bad token types": func(m map[string]any) { m[KeyTokenType] = "x" },
		"add_bos, no bos": func(m map[string]any) {
			m[KeyBOS] = uint32(99)
			m[KeyModel] = "gemma4"
			m[KeyMerges] = []string{"▁ a"}
		},
	} {
		m := base()
		edit(m)
		_, err := FromMetadata(m)
		assert.Error(t, err, name)
	}
}

// User-defined tokens are matched in any text; control tokens only where a
// template wrote them (EncodeSpecial).
func TestUserDefinedAndControlTokens(t *testing.T) {
	q := mustHF(t, "qwen3")
	think, _ := q.ID("<think>")
	imStart, _ := q.ID("<|im_start|>")
	assert.Contains(t, q.Encode("a <think> b", false), think)
	assert.NotContains(t, q.Encode("<|im_start|>user", false), imStart)
	assert.Equal(t, imStart, q.EncodeSpecial("<|im_start|>user", false)[0])
	// NFC: a decomposed é tokenizes like the composed one.
	assert.Equal(t, q.Encode("café", false), q.Encode("cafe\u0301", false))
}
