package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// A splitter cuts a text fragment into the words BPE works on, calling
// emit with each (substrings of text, in order, covering all of it).
//
// Go's regexp has neither \p{..} with lookahead nor possessive matching, so
// each pre-tokenizer regex is a hand-written scanner over code points. They
// follow llama.cpp's unicode.cpp scanners (which mirror the HF regexes).
type splitter func(text string, emit func(string))

// runes decodes text once; off[i] is the byte offset of rune i, with a
// final entry len(text).
func runes(text string) ([]rune, []int) {
	rs := make([]rune, 0, len(text))
	off := make([]int, 0, len(text)+1)
	for i, r := range text {
		rs = append(rs, r)
		off = append(off, i)
	}
	off = append(off, len(text))
	return rs, off
}

func isL(r rune) bool {
	return r < utf8.RuneSelf && (r|0x20 >= 'a' && r|0x20 <= 'z') || r >= utf8.RuneSelf && unicode.IsLetter(r)
}
func isN(r rune) bool  { return r >= '0' && r <= '9' || r >= utf8.RuneSelf && unicode.IsNumber(r) }
func isS(r rune) bool  { return unicode.IsSpace(r) }
func isM(r rune) bool  { return r >= utf8.RuneSelf && unicode.Is(unicode.M, r) }
func isLM(r rune) bool { return isL(r) || isM(r) }
func isNL(r rune) bool { return r == '\r' || r == '\n' }

func lower(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}
	return unicode.ToLower(r)
}

// contraction returns the length (in runes) of 's 't 're 've 'm 'll 'd at
// rs[pos], or 0.
func contraction(rs []rune, pos int, fold bool) int {
	if rs[pos] != '\'' || pos+1 >= len(rs) {
		return 0
	}
	c := func(r rune) rune {
		if fold {
			return lower(r)
		}
		return r
	}
	n1 := c(rs[pos+1])
	if n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd' {
		return 2
	}
	if pos+2 < len(rs) {
		n2 := c(rs[pos+2])
		if (n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l') {
			return 3
		}
	}
	return 0
}

// splitGPT2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(text string, emit func(string)) {
	rs, off := runes(text)
	n := len(rs)
	prev := 0
	cut := func(end int) {
		if end > prev {
			emit(text[off[prev]:off[end]])
		}
		prev = end
	}
	isP := func(r rune) bool { return !isS(r) && !isL(r) && !isN(r) }
	for pos := 0; pos < n; {
		if k := contraction(rs, pos, false); k > 0 {
			pos += k
			cut(pos)
			continue
		}
		p := pos
		if rs[p] == ' ' {
			p++
		}
		if p < n {
			var class func(rune) bool
			switch r := rs[p]; {
			case isL(r):
				class = isL
			case isN(r):
				class = isN
			case isP(r):
				class = isP
			}
			if class != nil {
				for p < n && class(rs[p]) {
					p++
				}
				pos = p
				cut(pos)
				continue
			}
		}
		ws := 0
		for pos+ws < n && isS(rs[pos+ws]) {
			ws++
		}
		switch {
		case ws > 1 && pos+ws < n:
			pos += ws - 1
		case ws > 0:
			pos += ws
		default:
			pos++
		}
		cut(pos)
	}
}

// llama3Like is the family of
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// with D digits per number chunk; marks=true adds \p{M} to the letter
// runs and removes it from the punctuation class (Qwen3.5).
func llama3Like(digits int, marks bool) splitter {
	letter := isL
	if marks {
		letter = isLM
	}
	isP := func(r rune) bool { return !isS(r) && !letter(r) && !isN(r) }
	return func(text string, emit func(string)) {
		rs, off := runes(text)
		n := len(rs)
		prev := 0
		cut := func(end int) {
			if end > prev {
				emit(text[off[prev]:off[end]])
			}
			prev = end
		}
		for pos := 0; pos < n; {
			r := rs[pos]
			if k := contraction(rs, pos, true); k > 0 {
				pos += k
				cut(pos)
				continue
			}
			// [^\r\n\p{L}\p{N}]?\p{L}+
			if !isNL(r) && !isN(r) && (letter(r) || pos+1 < n && letter(rs[pos+1])) {
				pos++
				for pos < n && letter(rs[pos]) {
					pos++
				}
				cut(pos)
				continue
			}
			// \p{N}{1,D}
			if isN(r) {
				k := 0
				for pos < n && k < digits && isN(rs[pos]) {
					pos++
					k++
				}
				cut(pos)
				continue
			}
			// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
			p := pos
			if r == ' ' {
				p++
			}
			if p < n && isP(rs[p]) {
				for p < n && isP(rs[p]) {
					p++
				}
				for p < n && isNL(rs[p]) {
					p++
				}
				pos = p
				cut(pos)
				continue
			}
			ws, lastNL := 0, -1
			for pos+ws < n && isS(rs[pos+ws]) {
				if isNL(rs[pos+ws]) {
					lastNL = pos + ws + 1
				}
				ws++
			}
			switch {
			case lastNL > 0: // \s*[\r\n]+
				pos = lastNL
			case ws > 1 && pos+ws < n: // \s+(?!\S)
				pos += ws - 1
			case ws > 0: // \s+
				pos += ws
			default:
				pos++
			}
			cut(pos)
		}
	}
}

var (
	splitLlama3 = llama3Like(3, false)
	splitQwen2  = llama3Like(1, false)
	splitQwen35 = llama3Like(1, true)
)

// splitNewlines: [^\n]+|[\n]+ (llama.cpp's gemma4 pre-tokenizer).
func splitNewlines(text string, emit func(string)) {
	for len(text) > 0 {
		i := 1
		nl := text[0] == '\n'
		for i < len(text) && (text[i] == '\n') == nl {
			i++
		}
		emit(text[:i])
		text = text[i:]
	}
}

// byteToUnicode is GPT-2's reversible map from bytes to printable
// characters: printable Latin-1 bytes map to themselves, the rest to
// U+0100 onwards.
var byteToUnicode, unicodeToByte = func() ([256]string, map[rune]byte) {
	var fwd [256]string
	rev := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		r := rune(b)
		if !(b >= 0x21 && b <= 0x7E || b >= 0xA1 && b <= 0xAC || b >= 0xAE) {
			r = rune(256 + n)
			n++
		}
		fwd[b] = string(r)
		rev[r] = byte(b)
	}
	return fwd, rev
}()

func byteEncode(s string) string {
	buf := make([]byte, 0, len(s)*2)
	for i := 0; i < len(s); i++ {
		buf = append(buf, byteToUnicode[s[i]]...)
	}
	return string(buf)
}
