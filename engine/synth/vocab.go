package synth

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// llama.cpp token types (llama_token_type).
const (
	typeNormal  int32 = 1
	typeUnknown int32 = 2
	typeControl int32 = 3
	typeByte    int32 = 6
)

// vocab is a tokenizer in GGUF terms.
type vocab struct {
	model          string // tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE)
	pre            string // tokenizer.ggml.pre for gpt2
	tokens         []string
	scores         []float32 // SentencePiece only
	types          []int32
	merges         []string // BPE only
	bos, eos, eot  int
	unk, pad       int // -1 when absent
	addBOS         bool
	addSpacePrefix bool
}

// corpus trains the merges: plain English, so common words become tokens.
const corpus = `Once upon a time, in a small village by the sea, there lived a curious girl named Mira.
Every morning she walked along the shore and collected shells, stones and pieces of old glass.
She liked to think about where the water had carried them from, and who had held them before.
One day she found a bottle with a letter inside. The letter was written by a sailor who had lost
his way in a storm many years ago. He wrote that he was safe on an island, that the people there
were kind, and that he hoped the bottle would reach someone who would smile when they read it.
Mira did smile. She showed the letter to her grandmother, who told her stories about the sailors
of the village, the boats they built, the songs they sang at night, and the stars they followed home.
The next day Mira wrote a letter of her own. She told the sailor about the village, the weather,
the market and the school, and she thanked him for his words. Then she put the letter in the same
bottle and gave it back to the sea. Summarize the text. Rewrite this paragraph in a simple way.
What is the answer to the question? The quick brown fox jumps over the lazy dog. 0123456789`

// family vocabulary layouts.
func buildVocab(family string, size int) (*vocab, error) {
	switch family {
	case "gemma":
		return spmVocab(size, []special{{"<pad>", typeControl}, {"<eos>", typeControl}, {"<bos>", typeControl}, {"<unk>", typeUnknown},
			{"<start_of_turn>", typeControl}, {"<end_of_turn>", typeControl}}, "<unused%d>", func(v *vocab, id map[string]int) {
			v.pad, v.eos, v.bos, v.unk, v.eot = 0, 1, 2, 3, id["<end_of_turn>"]
			v.addBOS, v.addSpacePrefix = true, false
		})
	case "mistral":
		return spmVocab(size, []special{{"<unk>", typeUnknown}, {"<s>", typeControl}, {"</s>", typeControl},
			{"[INST]", typeControl}, {"[/INST]", typeControl}}, "<control_%d>", func(v *vocab, id map[string]int) {
			v.unk, v.bos, v.eos, v.eot, v.pad = 0, 1, 2, -1, -1
			v.addBOS, v.addSpacePrefix = true, true
		})
	case "llama3":
		// Llama 3: 256 specials at the top of the vocabulary.
		names := []string{"<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
			"<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
			"<|eom_id|>", "<|eot_id|>", "<|python_tag|>"}
		for i := 3; len(names) < 256; i++ {
			names = append(names, fmt.Sprintf("<|reserved_special_token_%d|>", i))
		}
		v, id, err := bpeVocab(size, names, 0, "llama-bpe")
		if err != nil {
			return nil, err
		}
		v.bos, v.eos, v.eot, v.unk, v.pad = id["<|begin_of_text|>"], id["<|eot_id|>"], id["<|eot_id|>"], -1, -1
		v.addBOS = true
		return v, nil
	case "qwen":
		names := []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
			"<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
			"<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
			"<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>",
			"</tool_response>", "<think>", "</think>"}
		// Qwen's embedding rows outnumber its tokens; llama.cpp's converter pads with [PADn].
		padRows := 64
		if size > 100000 {
			padRows = 151936 - 151669
		}
		v, id, err := bpeVocab(size, names, padRows, "qwen2")
		if err != nil {
			return nil, err
		}
		v.bos, v.eos, v.eot, v.pad, v.unk = id["<|endoftext|>"], id["<|im_end|>"], id["<|im_end|>"], id["<|endoftext|>"], -1
		v.addBOS = false
		return v, nil
	}
	return nil, fmt.Errorf("unknown tokenizer family %q", family)
}

type special struct {
	text string
	typ  int32
}

// spmVocab: specials, the 256 byte tokens, the corpus's characters and
// learned merges (score = -rank, so llama.cpp's score-driven SentencePiece
// merging replays the merge order), then control filler up to size.
func spmVocab(size int, specials []special, filler string, finish func(*vocab, map[string]int)) (*vocab, error) {
	v := &vocab{model: "llama"}
	add := func(s string, score float32, typ int32) {
		v.tokens = append(v.tokens, s)
		v.scores = append(v.scores, score)
		v.types = append(v.types, typ)
	}
	id := map[string]int{}
	for _, s := range specials {
		id[s.text] = len(v.tokens)
		add(s.text, 0, s.typ)
	}
	for b := 0; b < 256; b++ {
		add(fmt.Sprintf("<0x%02X>", b), 0, typeByte)
	}
	words := spmWords(corpus)
	chars := map[string]bool{}
	for _, w := range words {
		for _, r := range w {
			chars[string(r)] = true
		}
	}
	charList := sortedKeys(chars)
	budget := size - len(v.tokens) - len(charList)
	if budget < 0 {
		return nil, fmt.Errorf("vocab size %d is too small", size)
	}
	for _, c := range charList {
		add(c, -1e6, typeNormal) // characters: never preferred over a merge
	}
	seen := map[string]bool{}
	for _, t := range v.tokens {
		seen[t] = true
	}
	rank := 0
	for _, m := range trainBPE(words, budget, seen) {
		if m.fresh && len(v.tokens) < size {
			rank++
			add(m.a+m.b, -float32(rank), typeNormal)
		}
	}
	for i := 0; len(v.tokens) < size; i++ {
		add(fmt.Sprintf(filler, i), 0, typeControl)
	}
	finish(v, id)
	return v, nil
}

// spmWords splits the corpus SentencePiece-style: spaces become "▁" and
// start the following word; newlines stand alone.
func spmWords(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for i, w := range strings.Fields(line) {
			if i > 0 || len(out) > 0 {
				w = "▁" + w
			}
			out = append(out, w)
		}
	}
	return out
}

// bpeVocab: the 256 byte symbols, learned merges, control filler, then the
// specials at the top (padRows [PADn] rows after them).
func bpeVocab(size int, specials []string, padRows int, pre string) (*vocab, map[string]int, error) {
	v := &vocab{model: "gpt2", pre: pre}
	add := func(s string, typ int32) {
		v.tokens = append(v.tokens, s)
		v.types = append(v.types, typ)
	}
	enc := byteEncoder()
	for b := 0; b < 256; b++ {
		add(enc[b], typeNormal)
	}
	words := bpeWords(corpus, enc)
	regular := size - len(specials) - padRows
	seen := map[string]bool{}
	for _, t := range v.tokens {
		seen[t] = true
	}
	budget := regular - len(v.tokens)
	if budget < 0 {
		return nil, nil, fmt.Errorf("vocab size %d is too small", size)
	}
	for _, m := range trainBPE(words, budget, seen) {
		if m.fresh {
			if len(v.tokens) >= regular {
				break
			}
			add(m.a+m.b, typeNormal)
		}
		v.merges = append(v.merges, m.a+" "+m.b)
	}
	for i := 0; len(v.tokens) < regular; i++ {
		add(fmt.Sprintf("<|filler_%d|>", i), typeControl)
	}
	id := map[string]int{}
	for _, s := range specials {
		id[s] = len(v.tokens)
		add(s, typeControl)
	}
	for len(v.tokens) < size {
		add(fmt.Sprintf("[PAD%d]", len(v.tokens)), typeControl)
	}
	return v, id, nil
}

// byteEncoder is GPT-2's byte → printable rune mapping: printable Latin-1
// bytes map to themselves, the rest to U+0100 onwards in byte order.
func byteEncoder() [256]string {
	var enc [256]string
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			enc[b] = string(rune(b))
		} else {
			enc[b] = string(rune(256 + n))
			n++
		}
	}
	return enc
}

// bpeWords pre-splits like the Llama 3 / Qwen regexes do for plain text:
// an optional space with a run of letters, a run of other symbols, or a
// single digit; each piece is byte-encoded.
func bpeWords(text string, enc [256]string) []string {
	var out []string
	var cur strings.Builder
	kind := 0 // 1 letters, 2 other
	flush := func() {
		if cur.Len() > 0 {
			var b strings.Builder
			for _, c := range []byte(cur.String()) {
				b.WriteString(enc[c])
			}
			out = append(out, b.String())
			cur.Reset()
		}
		kind = 0
	}
	for _, r := range text {
		switch {
		case r == ' ':
			flush()
			cur.WriteRune(r)
		case unicode.IsLetter(r):
			if kind != 1 && !(cur.String() == " ") {
				flush()
			}
			kind = 1
			cur.WriteRune(r)
		case unicode.IsDigit(r):
			flush()
			cur.WriteRune(r)
			flush()
		case r == '\n':
			flush()
			cur.WriteRune(r)
			flush()
		default:
			if kind != 2 && !(cur.String() == " ") {
				flush()
			}
			kind = 2
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

type merge struct {
	a, b  string
	fresh bool // the merged text is a new token (not produced by an earlier merge)
}

// trainBPE learns up to n merges from words (weighted by frequency): the
// most frequent adjacent pair wins, ties broken by the pair's text, so the
// result is the same on every run. Pairs must occur at least twice, and a
// merge whose result is already a token is applied but not emitted.
func trainBPE(words []string, n int, seen map[string]bool) []merge {
	freq := map[string]int{}
	for _, w := range words {
		freq[w]++
	}
	type word struct {
		syms  []string
		count int
	}
	var ws []word
	for _, w := range sortedKeys(freqSet(freq)) {
		var syms []string
		for len(w) > 0 {
			_, size := utf8.DecodeRuneInString(w)
			syms = append(syms, w[:size])
			w = w[size:]
		}
		ws = append(ws, word{syms, freq[strings.Join(syms, "")]})
	}
	var out []merge
	for len(out) < n {
		type pair struct{ a, b string }
		counts := map[pair]int{}
		for _, w := range ws {
			for i := 0; i+1 < len(w.syms); i++ {
				counts[pair{w.syms[i], w.syms[i+1]}] += w.count
			}
		}
		best, bestN := merge{}, 1
		for p, c := range counts {
			m := merge{a: p.a, b: p.b}
			if c > bestN || (c == bestN && c > 1 && less(m, best)) {
				best, bestN = m, c
			}
		}
		if bestN < 2 {
			break
		}
		joined := best.a + best.b
		for wi := range ws {
			s := ws[wi].syms
			var ns []string
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == best.a && s[i+1] == best.b {
					ns = append(ns, joined)
					i++
				} else {
					ns = append(ns, s[i])
				}
			}
			ws[wi].syms = ns
		}
		best.fresh = !seen[joined]
		seen[joined] = true
		out = append(out, best)
	}
	return out
}

func less(x, y merge) bool {
	if x.a != y.a {
		return x.a < y.a
	}
	return x.b < y.b
}

func freqSet(m map[string]int) map[string]bool {
	s := make(map[string]bool, len(m))
	for k := range m {
		s[k] = true
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
