package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// hfTokenizer is the part of an HF tokenizer.json we read.
type hfTokenizer struct {
	AddedTokens []struct {
		ID      int32  `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    *hfStep `json:"normalizer"`
	PreTokenizer  *hfStep `json:"pre_tokenizer"`
	PostProcessor *hfStep `json:"post_processor"`
	Model         struct {
		Type         string          `json:"type"`
		Vocab        json.RawMessage `json:"vocab"`
		Merges       json.RawMessage `json:"merges"`
		UnkToken     *string         `json:"unk_token"`
		ByteFallback bool            `json:"byte_fallback"`
		IgnoreMerges bool            `json:"ignore_merges"`
	} `json:"model"`
}

// hfStep is a normalizer, pre-tokenizer or post-processor (possibly a
// Sequence of them).
type hfStep struct {
	Type          string    `json:"type"`
	Normalizers   []*hfStep `json:"normalizers"`
	Pretokenizers []*hfStep `json:"pretokenizers"`
	Processors    []*hfStep `json:"processors"`
	Pattern       struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`
	Content       string `json:"content"`
	Prepend       string `json:"prepend"`
	Replacement   string `json:"replacement"`
	PrependScheme string `json:"prepend_scheme"`
	AddPrefix     *bool  `json:"add_prefix_space"`
	UseRegex      *bool  `json:"use_regex"`
	Single        []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct{} `json:"Sequence"`
	} `json:"single"`
}

// flatten lists the steps of a (nested) Sequence in order.
func (s *hfStep) flatten() []*hfStep {
	if s == nil {
		return nil
	}
	if s.Type != "Sequence" {
		return []*hfStep{s}
	}
	var out []*hfStep
	for _, l := range [][]*hfStep{s.Normalizers, s.Pretokenizers, s.Processors} {
		for _, c := range l {
			out = append(out, c.flatten()...)
		}
	}
	return out
}

// hfConfig is the part of tokenizer_config.json we read.
type hfConfig struct {
	BOS          json.RawMessage `json:"bos_token"`
	EOS          json.RawMessage `json:"eos_token"`
	UNK          json.RawMessage `json:"unk_token"`
	PAD          json.RawMessage `json:"pad_token"`
	AddBOS       *bool           `json:"add_bos_token"`
	AddEOS       *bool           `json:"add_eos_token"`
	ChatTemplate json.RawMessage `json:"chat_template"`
}

// tokenName reads "tok", {"content": "tok"} or null.
func tokenName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.Content
	}
	return ""
}

// Pre-tokenizer regexes of the byte-level BPE families we serve.
var hfPreRegex = map[string]string{
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`:        "llama-bpe",
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`:             "qwen2",
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: "qwen35",
	`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`:                                                 "gpt-2",
}

// HFToMetadata translates an HF tokenizer.json (and tokenizer_config.json,
// which may be nil) into GGUF-style tokenizer.ggml.* keys, so that an HF
// folder and a GGUF carry one representation.
//
// SentencePiece-style BPE (Gemma: "▁" for spaces, byte fallback) becomes
// tokenizer.ggml.model "llama" with the merges, and with scores derived from
// the merge ranks so that llama.cpp, which reads such files by score, finds
// the same tokens. Byte-level BPE becomes "gpt2" with the pre-tokenizer
// named by its regex.
func HFToMetadata(tokenizerJSON, tokenizerConfigJSON []byte) (map[string]any, error) {
	var hf hfTokenizer
	if err := json.Unmarshal(tokenizerJSON, &hf); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if hf.Model.Type != "BPE" {
		return nil, fmt.Errorf("tokenizer.json model type %q is not supported (BPE is)", hf.Model.Type)
	}
	var cfg hfConfig
	if len(tokenizerConfigJSON) > 0 {
		if err := json.Unmarshal(tokenizerConfigJSON, &cfg); err != nil {
			return nil, fmt.Errorf("tokenizer_config.json: %w", err)
		}
	}
	merges, err := hfMerges(hf.Model.Merges)
	if err != nil {
		return nil, err
	}
	vocab, err := vocabObject(hf.Model.Vocab)
	if err != nil {
		return nil, err
	}

	// Vocabulary by id, added tokens included.
	n := int32(0)
	for _, id := range vocab {
		n = max(n, id+1)
	}
	for _, a := range hf.AddedTokens {
		n = max(n, a.ID+1)
	}
	tokens := make([]string, n)
	types := make([]int32, n)
	for s, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("tokenizer.json: token %q has negative id %d", s, id)
		}
		tokens[id] = s
		types[id] = TypeNormal
		if _, isByte := byteOf(s); hf.Model.ByteFallback && isByte {
			types[id] = TypeByte
		}
	}
	for _, a := range hf.AddedTokens {
		tokens[a.ID] = a.Content
		types[a.ID] = TypeUserDefined
		if a.Special {
			types[a.ID] = TypeControl
		}
	}
	for i := range tokens {
		if types[i] == 0 {
			tokens[i] = fmt.Sprintf("[PAD%d]", i)
			types[i] = TypeUnused
		}
	}
	idOf := func(s string) (int32, bool) {
		if s == "" {
			return 0, false
		}
		for _, a := range hf.AddedTokens {
			if a.Content == s {
				return a.ID, true
			}
		}
		id, ok := vocab[s]
		return id, ok
	}
	if hf.Model.UnkToken != nil {
		if id, ok := idOf(*hf.Model.UnkToken); ok {
			types[id] = TypeUnknown
		}
	}

	m := map[string]any{
		KeyTokens:    tokens,
		KeyTokenType: types,
		KeyMerges:    merges,
	}

	norms := hf.Normalizer.flatten()
	pres := hf.PreTokenizer.flatten()
	spaceEscape, prefix, byteLevel, nfcNorm := false, false, false, false
	var regex string
	for _, s := range norms {
		switch s.Type {
		case "Replace":
			if s.Pattern.String != nil && *s.Pattern.String == " " && s.Content == "▁" {
				spaceEscape = true
			}
		case "Prepend":
			prefix = s.Prepend == "▁"
		case "NFC":
			nfcNorm = true
		case "Strip", "NFKC", "NFD", "NFKD", "Lowercase", "BertNormalizer", "Precompiled":
			return nil, fmt.Errorf("tokenizer.json normalizer %q is not supported", s.Type)
		}
	}
	for _, s := range pres {
		switch s.Type {
		case "ByteLevel":
			byteLevel = true
			if s.UseRegex == nil || *s.UseRegex {
				regex = hfGPT2Regex
			}
		case "Split":
			if s.Pattern.Regex != nil {
				regex = *s.Pattern.Regex
			} else if s.Pattern.String == nil || *s.Pattern.String != " " || !spaceEscape {
				// Splitting on " " after spaces became "▁" (Gemma 3) is a no-op.
				return nil, fmt.Errorf("tokenizer.json Split pre-tokenizer on %v is not supported", s.Pattern.String)
			}
		case "Metaspace":
			spaceEscape = true
			prefix = s.PrependScheme != "never" && (s.AddPrefix == nil || *s.AddPrefix)
		default:
			return nil, fmt.Errorf("tokenizer.json pre-tokenizer %q is not supported", s.Type)
		}
	}
	switch {
	case byteLevel:
		pre, ok := hfPreRegex[regex]
		if !ok {
			return nil, fmt.Errorf("tokenizer.json pre-tokenizer regex %q is not one we implement", regex)
		}
		m[KeyModel] = "gpt2"
		m[KeyPre] = pre
	case spaceEscape:
		m[KeyModel] = "llama"
		m[KeyAddSpacePrefix] = prefix
		m[KeyScores] = mergeScores(tokens, merges)
	default:
		return nil, fmt.Errorf("tokenizer.json is neither byte-level nor SentencePiece-style BPE")
	}
	if nfcNorm {
		m[KeyNormalizer] = "nfc"
	}

	// Special tokens and the BOS/EOS rules.
	bosName, eosName := tokenName(cfg.BOS), tokenName(cfg.EOS)
	addBOS, addEOS := false, false
	if pp := hf.PostProcessor.flatten(); len(pp) > 0 {
		for _, p := range pp {
			if p.Type != "TemplateProcessing" || len(p.Single) == 0 {
				continue
			}
			if st := p.Single[0].SpecialToken; st != nil {
				addBOS = true
				if bosName == "" {
					bosName = st.ID
				}
			}
			if st := p.Single[len(p.Single)-1].SpecialToken; st != nil && len(p.Single) > 1 {
				addEOS = true
				if eosName == "" {
					eosName = st.ID
				}
			}
		}
	}
	if cfg.AddBOS != nil {
		addBOS = *cfg.AddBOS
	}
	if cfg.AddEOS != nil {
		addEOS = *cfg.AddEOS
	}
	for _, k := range []struct {
		key, name string
	}{{KeyBOS, bosName}, {KeyEOS, eosName}, {KeyUnknown, tokenName(cfg.UNK)}, {KeyPadding, tokenName(cfg.PAD)}} {
		if id, ok := idOf(k.name); ok {
			m[k.key] = uint32(id)
		}
	}
	if _, ok := m[KeyUnknown]; !ok && hf.Model.UnkToken != nil {
		if id, ok := idOf(*hf.Model.UnkToken); ok {
			m[KeyUnknown] = uint32(id)
		}
	}
	m[KeyAddBOS] = addBOS
	m[KeyAddEOS] = addEOS
	if tpl := chatTemplate(cfg.ChatTemplate); tpl != "" {
		m[KeyChatTemplate] = tpl
	}
	return m, nil
}

// hfGPT2Regex is what ByteLevel's use_regex applies.
const hfGPT2Regex = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// hfMerges reads merges as "a b" strings or ["a", "b"] pairs and returns
// llama.cpp's "a b" form.
func hfMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	return mergesArray(raw)
}

// mergeScores gives each token the score -(rank of the first merge that
// makes it), so that merging the highest-scoring pair (SentencePiece, as
// llama.cpp reads "llama" vocabularies) picks the lowest-ranked merge (BPE).
// Tokens no merge makes score below every merge result.
func mergeScores(tokens []string, merges []string) []float32 {
	vocab := make(map[string]int, len(tokens))
	for i, s := range tokens {
		vocab[s] = i
	}
	scores := make([]float32, len(tokens))
	for i := range scores {
		scores[i] = float32(math.Inf(-1))
	}
	var buf []byte
	for rank, mg := range merges {
		sp := strings.IndexByte(mg[min(1, len(mg)):], ' ')
		if sp < 0 {
			continue
		}
		sp += min(1, len(mg))
		buf = append(append(buf[:0], mg[:sp]...), mg[sp+1:]...)
		if id, ok := vocab[string(buf)]; ok && math.IsInf(float64(scores[id]), -1) {
			scores[id] = -float32(rank)
		}
	}
	floor := -float32(len(merges) + 1)
	for i := range scores {
		if math.IsInf(float64(scores[i]), -1) {
			scores[i] = floor
		}
	}
	return scores
}

// chatTemplate reads a template string, or the "default" one of a list of
// named templates.
func chatTemplate(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if json.Unmarshal(raw, &named) == nil {
		sort.SliceStable(named, func(i, j int) bool { return named[i].Name == "default" && named[j].Name != "default" })
		if len(named) > 0 {
			return named[0].Template
		}
	}
	return ""
}
