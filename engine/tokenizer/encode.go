package tokenizer

import "strings"

// Encode tokenizes user text: text that looks like a control token (e.g.
// "<end_of_turn>") is plain text. With addSpecial, BOS/EOS are added as the
// model asks (llama.cpp's add_special).
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	return t.encode(text, addSpecial, false)
}

// EncodeSpecial tokenizes text a chat template produced: special-token texts
// become their tokens.
func (t *Tokenizer) EncodeSpecial(text string, addSpecial bool) []int32 {
	return t.encode(text, addSpecial, true)
}

func (t *Tokenizer) encode(text string, addSpecial, parseSpecial bool) []int32 {
	if t.nfc {
		text = nfc(text)
	}
	out := make([]int32, 0, len(text)/3+2)
	if addSpecial && t.addBOS {
		out = append(out, t.bos)
	}
	var frags []fragment
	if text != "" {
		frags = t.partition(text, parseSpecial)
	}
	prevSpecial := true
	for _, f := range frags {
		if f.tok != null {
			out = append(out, f.tok)
			prevSpecial = true
			continue
		}
		s := f.text
		if t.model == "llama" && t.addSpacePrefix && prevSpecial {
			s = " " + s
		}
		if t.escapeSpaces {
			s = strings.ReplaceAll(s, " ", "▁")
		}
		if t.algo == algoSPM {
			out = t.spm(s, out)
		} else {
			out = t.bpeText(s, out)
		}
		prevSpecial = false
	}
	if addSpecial && t.addEOS {
		out = append(out, t.eos)
	}
	return out
}

// symbol is a run of text in the merge loops: text[start:start+n].
type symbol struct {
	start, n   int32
	prev, next int32
	id         int32 // BPE: token or merge-part id of the symbol
}

// bigram is a merge candidate. Lower pri merges first; ties go left first.
type bigram struct {
	left, right int32
	size        int32
	pri         float64
	id          int32
}

// bigramHeap is a binary min-heap (pri, then left).
type bigramHeap []bigram

func (h bigramHeap) less(i, j int) bool {
	if h[i].pri != h[j].pri {
		return h[i].pri < h[j].pri
	}
	return h[i].left < h[j].left
}

func (h *bigramHeap) push(b bigram) {
	*h = append(*h, b)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *bigramHeap) pop() bigram {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		m := l
		if r := l + 1; r < len(s) && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// chars splits text into UTF-8 characters the way llama.cpp does: by the
// length its lead byte announces, clipped to the text.
func chars(text string, syms []symbol) []symbol {
	for off := 0; off < len(text); {
		n := utf8Len(text[off])
		if off+n > len(text) {
			n = len(text) - off
		}
		i := int32(len(syms))
		syms = append(syms, symbol{start: int32(off), n: int32(n), prev: i - 1, next: i + 1, id: null})
		off += n
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	return syms
}

func utf8Len(b byte) int {
	switch {
	case b < 0xC0:
		return 1
	case b < 0xE0:
		return 2
	case b < 0xF0:
		return 3
	}
	return 4
}

// spm is llama.cpp's SentencePiece tokenizer: repeatedly merge the adjacent
// pair whose concatenation is the highest-scoring token; characters left
// without a token fall back to byte tokens.
func (t *Tokenizer) spm(text string, out []int32) []int32 {
	syms := chars(text, nil)
	var h bigramHeap
	try := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		s := text[syms[l].start : syms[r].start+syms[r].n]
		id, ok := t.vocab[s]
		if !ok {
			return
		}
		h.push(bigram{left: l, right: r, size: int32(len(s)), pri: -float64(t.scores[id])})
	}
	for i := 1; i < len(syms); i++ {
		try(int32(i-1), int32(i))
	}
	for len(h) > 0 {
		b := h.pop()
		l, r := &syms[b.left], &syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		try(l.prev, b.left)
		try(b.left, l.next)
	}
	if len(syms) == 0 {
		return out
	}
	for i := int32(0); i != -1; i = syms[i].next {
		s := text[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := t.vocab[s]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(s); j++ {
			if id := t.byteTok[s[j]]; id != null {
				out = append(out, id)
			} else if t.unk != null {
				out = append(out, t.unk)
			}
		}
	}
	return out
}

// bpeText splits a raw fragment into words and runs BPE on each.
func (t *Tokenizer) bpeText(text string, out []int32) []int32 {
	if t.split == nil {
		return t.bpeWord(text, out)
	}
	t.split(text, func(word string) {
		out = t.bpeWordCached(word, out)
	})
	return out
}

const cacheLimit = 1 << 16

func (t *Tokenizer) bpeWordCached(word string, out []int32) []int32 {
	if len(word) > 64 {
		return t.bpeWord(word, out)
	}
	t.cacheMu.Lock()
	ids, ok := t.cache[word]
	t.cacheMu.Unlock()
	if ok {
		return append(out, ids...)
	}
	n := len(out)
	out = t.bpeWord(word, out)
	ids = append([]int32(nil), out[n:]...)
	t.cacheMu.Lock()
	if len(t.cache) >= cacheLimit {
		clear(t.cache)
	}
	t.cache[word] = ids
	t.cacheMu.Unlock()
	return out
}

// bpeWord merges the characters of one word by merge rank.
func (t *Tokenizer) bpeWord(word string, out []int32) []int32 {
	if t.byteLvl {
		word = byteEncode(word)
	}
	if t.ignoreMg {
		if id, ok := t.vocab[word]; ok {
			return append(out, id)
		}
	}
	if t.newlines && strings.Trim(word, "\n") == "" {
		if id, ok := t.vocab[word]; ok {
			return append(out, id)
		}
	}
	syms := chars(word, make([]symbol, 0, len(word)))
	for i := range syms {
		syms[i].id = t.partLookup(word[syms[i].start : syms[i].start+syms[i].n])
	}
	var h bigramHeap
	try := func(l, r int32) {
		if l < 0 || r < 0 || syms[l].id == null || syms[r].id == null {
			return
		}
		m, ok := t.merges[pairKey(syms[l].id, syms[r].id)]
		if !ok {
			return
		}
		h.push(bigram{left: l, right: r, size: syms[l].n + syms[r].n, pri: float64(m.rank), id: m.result})
	}
	for i := 1; i < len(syms); i++ {
		try(int32(i-1), int32(i))
	}
	for len(h) > 0 {
		b := h.pop()
		l, r := &syms[b.left], &syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue
		}
		l.n += r.n
		l.id = b.id
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		try(l.prev, b.left)
		try(b.left, l.next)
	}
	if len(syms) == 0 {
		return out
	}
	for i := int32(0); i != -1; i = syms[i].next {
		s := word[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := t.vocab[s]; ok {
			out = append(out, id)
			continue
		}
		// Byte fallback. Byte-level vocabularies look up each byte of the
		// encoded text as a one-byte token, as llama.cpp does.
		for j := 0; j < len(s); j++ {
			if t.byteLvl {
				if id, ok := t.vocab[s[j:j+1]]; ok {
					out = append(out, id)
				}
			} else if id := t.byteTok[s[j]]; id != null {
				out = append(out, id)
			}
		}
	}
	return out
}

func (t *Tokenizer) partLookup(s string) int32 {
	if id, ok := t.vocab[s]; ok {
		return id
	}
	if id, ok := t.extIDs[s]; ok {
		return id
	}
	return null
}
