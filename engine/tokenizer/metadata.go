package tokenizer

import (
	"fmt"
	"math"
)

// GGUF metadata keys the tokenizer reads (llama.cpp's names).
const (
	KeyModel          = "tokenizer.ggml.model"
	KeyPre            = "tokenizer.ggml.pre"
	KeyTokens         = "tokenizer.ggml.tokens"
	KeyScores         = "tokenizer.ggml.scores"
	KeyTokenType      = "tokenizer.ggml.token_type"
	KeyMerges         = "tokenizer.ggml.merges"
	KeyBOS            = "tokenizer.ggml.bos_token_id"
	KeyEOS            = "tokenizer.ggml.eos_token_id"
	KeyEOT            = "tokenizer.ggml.eot_token_id"
	KeyEOM            = "tokenizer.ggml.eom_token_id"
	KeyUnknown        = "tokenizer.ggml.unknown_token_id"
	KeyPadding        = "tokenizer.ggml.padding_token_id"
	KeyAddBOS         = "tokenizer.ggml.add_bos_token"
	KeyAddEOS         = "tokenizer.ggml.add_eos_token"
	KeyAddSpacePrefix = "tokenizer.ggml.add_space_prefix"
	KeyChatTemplate   = "tokenizer.chat_template"
	KeyArchitecture   = "general.architecture"
	KeyName           = "general.name"
	// KeyNormalizer is our own key (llama.cpp has none): "nfc" when the HF
	// tokenizer normalizes input to NFC before splitting (Qwen).
	KeyNormalizer = "tokenizer.doppler.normalizer"
)

// md wraps GGUF-style metadata with typed getters that accept every integer
// width the GGUF reader or a JSON translation may produce.
type md map[string]any

func (m md) str(key string) (string, bool) {
	s, ok := m[key].(string)
	return s, ok
}

func (m md) boolean(key string) (bool, bool) {
	b, ok := m[key].(bool)
	return b, ok
}

func (m md) integer(key string) (int64, bool) {
	switch v := m[key].(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		if v > math.MaxInt64 {
			return 0, false
		}
		return int64(v), true
	case float64: // JSON numbers
		if v == math.Trunc(v) {
			return int64(v), true
		}
	}
	return 0, false
}

func (m md) strings(key string) ([]string, error) {
	switch v := m[key].(type) {
	case nil:
		return nil, nil
	case []string:
		return v, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s[%d] is %T, want string", key, i, e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is %T, want an array of strings", key, m[key])
}

func (m md) floats(key string) ([]float32, error) {
	switch v := m[key].(type) {
	case nil:
		return nil, nil
	case []float32:
		return v, nil
	case []float64:
		out := make([]float32, len(v))
		for i, f := range v {
			out[i] = float32(f)
		}
		return out, nil
	case []int32: // llama.cpp accepts integer scores too
		out := make([]float32, len(v))
		for i, f := range v {
			out[i] = float32(f)
		}
		return out, nil
	case []any:
		out := make([]float32, len(v))
		for i, e := range v {
			f, ok := e.(float64)
			if !ok {
				return nil, fmt.Errorf("%s[%d] is %T, want a number", key, i, e)
			}
			out[i] = float32(f)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is %T, want an array of numbers", key, m[key])
}

func (m md) ints(key string) ([]int32, error) {
	switch v := m[key].(type) {
	case nil:
		return nil, nil
	case []int32:
		return v, nil
	case []uint32:
		out := make([]int32, len(v))
		for i, x := range v {
			out[i] = int32(x)
		}
		return out, nil
	case []int64:
		out := make([]int32, len(v))
		for i, x := range v {
			out[i] = int32(x)
		}
		return out, nil
	case []any:
		out := make([]int32, len(v))
		for i, e := range v {
			f, ok := e.(float64)
			if !ok {
				return nil, fmt.Errorf("%s[%d] is %T, want an integer", key, i, e)
			}
			out[i] = int32(f)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is %T, want an array of integers", key, m[key])
}
