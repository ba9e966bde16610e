// Package tokenizer turns text into token ids and back, in pure Go, for the
// model families Doppler serves: SentencePiece vocabularies with scores and
// byte fallback (Llama 2, phi-3, Gemma GGUFs), SentencePiece-style BPE with
// merges (Gemma's tokenizer.json, llama.cpp's "gemma4"), and GPT-2 style
// byte-level BPE with hand-written pre-tokenizers (GPT-2, Llama 3, Qwen2/3,
// Qwen3.5). It also renders chat templates.
//
// Everything is built from one representation: GGUF-style metadata
// (tokenizer.ggml.* keys). HFToMetadata translates an HF tokenizer.json into
// the same keys. Tokenization follows llama.cpp's llama-vocab.cpp; where the
// HF tokenizer differs (added-token matching, NFC) we follow HF for metadata
// that came from tokenizer.json.
package tokenizer

import (
	"fmt"
	"strings"
	"sync"
)

// Token attributes (llama.cpp's llama_token_attr bits).
const (
	attrUndefined   uint32 = 0
	attrUnknown     uint32 = 1 << 0
	attrUnused      uint32 = 1 << 1
	attrNormal      uint32 = 1 << 2
	attrControl     uint32 = 1 << 3
	attrUserDefined uint32 = 1 << 4
	attrByte        uint32 = 1 << 5
	attrLStrip      uint32 = 1 << 7
	attrRStrip      uint32 = 1 << 8
)

// GGUF token types (tokenizer.ggml.token_type values).
const (
	TypeNormal      int32 = 1
	TypeUnknown     int32 = 2
	TypeControl     int32 = 3
	TypeUserDefined int32 = 4
	TypeUnused      int32 = 5
	TypeByte        int32 = 6
)

type algo int

const (
	algoSPM algo = iota // bigram merges by token score (llm_tokenizer_spm)
	algoBPE             // pair merges by rank
)

// Tokenizer encodes and decodes text for one vocabulary. It is safe for
// concurrent use.
type Tokenizer struct {
	model, pre, arch, name string
	algo                   algo

	pieces []string
	scores []float32
	attrs  []uint32
	vocab  map[string]int32

	// BPE: merges keyed by (left id, right id); ids ≥ len(pieces) name merge
	// parts that are not vocabulary tokens.
	merges   map[uint64]mergeRule
	extIDs   map[string]int32
	split    splitter // pre-tokenizer; nil = whole fragment is one word
	byteLvl  bool     // GPT-2 byte-to-unicode mapping of words
	ignoreMg bool     // a word that is a token is used as is (llama-bpe)
	newlines bool     // gemma4: newline-only words that are tokens are used as is

	escapeSpaces   bool // " " → "▁" before the model
	addSpacePrefix bool
	nfc            bool

	byteTok [256]int32 // byte fallback / byte-level token per byte, -1 if none

	bos, eos, eot, eom, unk, pad int32
	addBOS, addEOS               bool
	eog                          []int32

	chatTemplate string

	userTrie, specialTrie *trie

	cacheMu sync.Mutex
	cache   map[string][]int32
}

type mergeRule struct {
	rank   int32
	result int32
}

const null int32 = -1

// FromMetadata builds a tokenizer from GGUF-style metadata.
func FromMetadata(meta map[string]any) (*Tokenizer, error) {
	m := md(meta)
	t := &Tokenizer{bos: null, eos: null, eot: null, eom: null, unk: null, pad: null}
	var ok bool
	if t.model, ok = m.str(KeyModel); !ok {
		return nil, fmt.Errorf("metadata has no %s: the model carries no tokenizer", KeyModel)
	}
	t.pre, _ = m.str(KeyPre)
	t.arch, _ = m.str(KeyArchitecture)
	t.name, _ = m.str(KeyName)
	t.chatTemplate, _ = m.str(KeyChatTemplate)
	if n, _ := m.str(KeyNormalizer); n == "nfc" {
		t.nfc = true
	}

	var err error
	if t.pieces, err = m.strings(KeyTokens); err != nil {
		return nil, err
	}
	if len(t.pieces) == 0 {
		return nil, fmt.Errorf("metadata has no %s", KeyTokens)
	}
	n := len(t.pieces)
	if t.scores, err = m.floats(KeyScores); err != nil {
		return nil, err
	}
	if t.scores != nil && len(t.scores) < n {
		return nil, fmt.Errorf("%s has %d entries for %d tokens", KeyScores, len(t.scores), n)
	}
	types, err := m.ints(KeyTokenType)
	if err != nil {
		return nil, err
	}
	if types != nil && len(types) < n {
		return nil, fmt.Errorf("%s has %d entries for %d tokens", KeyTokenType, len(types), n)
	}
	t.vocab = make(map[string]int32, n)
	t.attrs = make([]uint32, n)
	copied := false
	for i, p := range t.pieces {
		if p == "" {
			// llama.cpp's placeholder; copy first: metadata values are shared.
			if !copied {
				t.pieces = append([]string(nil), t.pieces...)
				copied = true
			}
			p = fmt.Sprintf("[EMPTY_%d]", i)
			t.pieces[i] = p
		}
		if prev, dup := t.vocab[p]; dup {
			return nil, fmt.Errorf("duplicate token %q in vocabulary (ids %d and %d)", p, prev, i)
		}
		t.vocab[p] = int32(i)
		t.attrs[i] = attrNormal
		if types != nil {
			t.attrs[i] = typeAttr(types[i])
		}
	}

	merges, err := m.strings(KeyMerges)
	if err != nil {
		return nil, err
	}
	switch t.model {
	case "llama":
		// SentencePiece. With merges (our translation of an HF BPE
		// tokenizer.json) the model runs BPE by rank, as HF does; llama.cpp
		// reads the same file by scores.
		t.bos, t.eos, t.unk = 1, 2, 0
		t.addSpacePrefix, t.addBOS = true, true
		t.escapeSpaces = true
		if len(merges) > 0 {
			t.algo = algoBPE
		} else {
			t.algo = algoSPM
			if t.scores == nil {
				t.scores = make([]float32, n)
			}
		}
	case "gpt2":
		// llama.cpp defaults BOS/EOS to 11 here, a leftover of one
		// vocabulary; we report none unless the metadata names them.
		t.algo = algoBPE
		if err := t.setPre(); err != nil {
			return nil, err
		}
	case "gemma4":
		t.algo = algoBPE
		t.pre = "gemma4"
		t.escapeSpaces = true
		t.split = splitNewlines
		t.newlines = true
		t.addBOS = true
	default:
		return nil, fmt.Errorf("tokenizer model %q is not supported (llama, gpt2 and gemma4 are)", t.model)
	}
	if t.algo == algoBPE {
		if len(merges) == 0 {
			return nil, fmt.Errorf("%s tokenizer without %s", t.model, KeyMerges)
		}
		t.buildMerges(merges)
	}
	// The space prefix is added in SentencePiece-style ("llama") encoding;
	// for every model it makes Decode drop the first token's leading space.
	if v, ok := m.boolean(KeyAddSpacePrefix); ok {
		t.addSpacePrefix = v
	}

	for _, k := range []struct {
		key string
		id  *int32
	}{{KeyBOS, &t.bos}, {KeyEOS, &t.eos}, {KeyEOT, &t.eot}, {KeyEOM, &t.eom}, {KeyUnknown, &t.unk}, {KeyPadding, &t.pad}} {
		if *k.id >= int32(n) {
			*k.id = null
		}
		if v, ok := m.integer(k.key); ok && v >= 0 && v < int64(n) {
			*k.id = int32(v)
		}
	}
	if v, ok := m.boolean(KeyAddBOS); ok {
		t.addBOS = v
	}
	if v, ok := m.boolean(KeyAddEOS); ok {
		t.addEOS = v
	}
	if t.model == "gemma4" {
		t.addBOS = true // llama.cpp overrides it for Gemma 4
	}
	if t.addBOS && t.bos == null {
		return nil, fmt.Errorf("%s is true but the model has no BOS token", KeyAddBOS)
	}
	if t.addEOS && t.eos == null {
		return nil, fmt.Errorf("%s is true but the model has no EOS token", KeyAddEOS)
	}

	t.findSpecial()
	t.byteTokens()
	t.buildTries()
	t.cache = make(map[string][]int32)
	return t, nil
}

func typeAttr(tt int32) uint32 {
	switch tt {
	case TypeNormal:
		return attrNormal
	case TypeUnknown:
		return attrUnknown
	case TypeControl:
		return attrControl
	case TypeUserDefined:
		return attrUserDefined
	case TypeUnused:
		return attrUnused
	case TypeByte:
		return attrByte
	}
	return attrUndefined
}

// setPre picks the pre-tokenizer of a byte-level BPE vocabulary.
func (t *Tokenizer) setPre() error {
	t.byteLvl = true
	switch t.pre {
	case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "mellum", "exaone4":
		t.split = splitGPT2
	case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral":
		t.split = splitLlama3
		t.ignoreMg = true
		t.addBOS = true
	case "qwen2", "deepseek-r1-qwen", "megrez", "stablelm2":
		t.split = splitQwen2
	case "qwen35":
		t.split = splitQwen35
	case "":
		return fmt.Errorf("byte-level BPE vocabulary without %s: re-convert the model with a current converter", KeyPre)
	default:
		return fmt.Errorf("pre-tokenizer %q is not supported (gpt-2, llama-bpe, qwen2 and qwen35 are)", t.pre)
	}
	return nil
}

// eogTexts are the token texts llama.cpp treats as end of generation.
var eogTexts = []string{
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
	"<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>", "<eos>",
}

// eotTexts name the end-of-turn token when the metadata does not.
var eotTexts = []string{
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
	"<|end_of_text|>", "<EOT>", "_<EOT>", "<end_of_utterance>",
}

// findSpecial finds EOT/EOG tokens by text and applies llama.cpp's
// per-model attribute fixes.
func (t *Tokenizer) findSpecial() {
	if t.eot == null {
		// llama.cpp walks an unordered map; any match is as good, take the
		// first in our list that exists.
		for _, s := range eotTexts {
			if id, ok := t.vocab[s]; ok {
				t.eot = id
				break
			}
		}
	}
	if t.eom == null {
		if id, ok := t.vocab["<|eom_id|>"]; ok {
			t.eom = id
		}
	}
	seen := map[int32]bool{}
	add := func(id int32) {
		if id != null && !seen[id] {
			seen[id] = true
			t.eog = append(t.eog, id)
			t.attrs[id] |= attrControl
		}
	}
	add(t.eos)
	add(t.eot)
	add(t.eom)
	for _, s := range eogTexts {
		if id, ok := t.vocab[s]; ok {
			add(id)
		}
	}
	for i, p := range t.pieces {
		if t.attrs[i]&attrControl != 0 && strings.Contains(p, "unused") {
			t.attrs[i] |= attrUnused
		}
	}
	// phi-3: special tokens swallow the whitespace after them.
	name := strings.ToLower(t.name)
	if strings.Contains(name, "phi-3") || strings.Contains(name, "phi3") {
		for i := range t.attrs {
			if t.attrs[i]&(attrControl|attrUserDefined|attrUnknown) != 0 {
				t.attrs[i] |= attrRStrip
			}
		}
		if id, ok := t.vocab["</s>"]; ok {
			t.attrs[id] |= attrRStrip
		}
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			if id, ok := t.vocab[s]; ok {
				t.attrs[id] &^= attrRStrip
			}
		}
	}
}

// byteTokens finds the token for each byte: <0xNN> pieces for SentencePiece
// style vocabularies, the GPT-2 byte characters for byte-level BPE.
func (t *Tokenizer) byteTokens() {
	const hex = "0123456789ABCDEF"
	for b := 0; b < 256; b++ {
		t.byteTok[b] = null
		if t.byteLvl {
			if id, ok := t.vocab[byteToUnicode[b]]; ok {
				t.byteTok[b] = id
			}
			continue
		}
		name := string([]byte{'<', '0', 'x', hex[b>>4], hex[b&15], '>'})
		if id, ok := t.vocab[name]; ok {
			t.byteTok[b] = id
		} else if t.algo == algoSPM {
			if id, ok := t.vocab[string([]byte{byte(b)})]; ok {
				t.byteTok[b] = id
			}
		}
	}
}

func (t *Tokenizer) buildMerges(merges []string) {
	t.merges = make(map[uint64]mergeRule, len(merges))
	t.extIDs = map[string]int32{}
	var buf []byte
	for rank, mg := range merges {
		// llama.cpp splits at the first space after the first byte.
		sp := strings.IndexByte(mg[min(1, len(mg)):], ' ')
		var l, r string
		if sp >= 0 {
			sp += min(1, len(mg))
			l, r = mg[:sp], mg[sp+1:]
		}
		li, ri := t.partID(l), t.partID(r)
		key := pairKey(li, ri)
		if _, dup := t.merges[key]; dup {
			continue // the first (lowest) rank wins, as in llama.cpp's emplace
		}
		buf = append(append(buf[:0], l...), r...)
		res, ok := t.vocab[string(buf)] // no allocation for the lookup
		if !ok {
			res = t.partID(string(buf))
		}
		t.merges[key] = mergeRule{rank: int32(rank), result: res}
	}
}

// partID returns the id of a merge part: its token id, or an id past the
// vocabulary for strings that only occur inside merges.
func (t *Tokenizer) partID(s string) int32 {
	if id, ok := t.vocab[s]; ok {
		return id
	}
	if id, ok := t.extIDs[s]; ok {
		return id
	}
	id := int32(len(t.pieces) + len(t.extIDs))
	t.extIDs[s] = id
	return id
}

func pairKey(l, r int32) uint64 { return uint64(uint32(l))<<32 | uint64(uint32(r)) }

// VocabSize is the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// Piece returns the vocabulary text of a token ("" if out of range).
func (t *Tokenizer) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// ID returns the token whose vocabulary text is s.
func (t *Tokenizer) ID(s string) (int32, bool) {
	id, ok := t.vocab[s]
	return id, ok
}

// BOS returns the beginning-of-sequence token.
func (t *Tokenizer) BOS() (int32, bool) { return t.bos, t.bos != null }

// EOS returns the end-of-sequence token.
func (t *Tokenizer) EOS() (int32, bool) { return t.eos, t.eos != null }

// EOT returns the end-of-turn token (e.g. <end_of_turn>, <|im_end|>, <|eot_id|>).
func (t *Tokenizer) EOT() (int32, bool) { return t.eot, t.eot != null }

// AddBOS reports whether Encode(text, true) starts with BOS.
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// AddEOS reports whether Encode(text, true) ends with EOS.
func (t *Tokenizer) AddEOS() bool { return t.addEOS }

// StopTokens lists the tokens that end generation: EOS, EOT and the
// end-of-turn tokens the vocabulary defines (llama.cpp's EOG set).
func (t *Tokenizer) StopTokens() []int32 { return append([]int32(nil), t.eog...) }

// IsStop reports whether id ends generation.
func (t *Tokenizer) IsStop(id int32) bool {
	for _, e := range t.eog {
		if e == id {
			return true
		}
	}
	return false
}

// IsControl reports whether id is a control token (rendered as nothing).
func (t *Tokenizer) IsControl(id int32) bool {
	return id >= 0 && int(id) < len(t.attrs) && t.attrs[id]&(attrControl|attrUnknown) != 0
}

// Model returns tokenizer.ggml.model and the pre-tokenizer name.
func (t *Tokenizer) Model() (model, pre string) { return t.model, t.pre }

// ChatTemplate returns the model's Jinja chat template, if it has one.
func (t *Tokenizer) ChatTemplate() string { return t.chatTemplate }
