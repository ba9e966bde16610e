package tasks

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Chunk is a piece of a longer text: text[Start:End].
type Chunk struct {
	Start, End int // byte offsets
	Tokens     int // tokens of Text
	Text       string
}

// span is a unit of text the splitter never cuts inside: [s, e) with its
// token count and whether a paragraph ends with it.
type span struct {
	s, e int
	n    int
	para bool
}

// Split cuts text into consecutive chunks of at most budget tokens (as
// count measures them) that cover it in order. Cuts fall between
// sentences, preferably at paragraph ends; a sentence longer than the
// budget is cut between words, a word between characters. Each chunk after
// the first repeats the end of the previous one, at most overlap tokens of
// whole sentences, so no fact is lost at a cut.
func Split(text string, budget, overlap int, count func(string) int) []Chunk {
	if budget < 1 || strings.TrimSpace(text) == "" {
		return nil
	}
	overlap = max(0, min(overlap, budget/2))
	units := atoms(text, budget, count)
	var chunks []Chunk
	prevJ := 0 // units[:prevJ] are in earlier chunks
	for i := 0; i < len(units); {
		floor := max(i+1, prevJ+1) // every chunk takes at least one new unit
		j := i + 1                 // units[i:j] is the chunk
		sum := units[i].n
		for j < len(units) && sum+units[j].n <= budget {
			sum += units[j].n
			j++
		}
		// Prefer ending at a paragraph if that keeps most of the chunk.
		if j < len(units) {
			for k := j - 1; k+1 >= floor && k >= i; k-- {
				if units[k].para {
					if units[k].e-units[i].s >= 2*(units[j-1].e-units[i].s)/3 {
						j = k + 1
					}
					break
				}
			}
		}
		// Sums of parts only estimate the tokens of their concatenation:
		// shorten the chunk, or its overlap, until it fits.
		n := count(text[units[i].s:units[j-1].e])
		for n > budget {
			switch {
			case j > floor:
				j--
			case i < prevJ:
				i++
			default:
				j = i + 1 // a single unit, counted alone when it was made
			}
			n = count(text[units[i].s:units[j-1].e])
			if j == i+1 {
				break
			}
		}
		s, e := units[i].s, units[j-1].e
		chunks = append(chunks, Chunk{Start: s, End: e, Tokens: n, Text: text[s:e]})
		if j == len(units) {
			break
		}
		prevJ = j
		i = overlapStart(text, units, i, j, budget, overlap, count)
	}
	return chunks
}

// overlapStart picks where the chunk after units[i:j] starts: the earliest
// unit k in (i, j] such that units[k:j] takes at most overlap tokens and
// still leaves room for units[j] in the budget.
func overlapStart(text string, units []span, i, j, budget, overlap int, count func(string) int) int {
	k := j
	sum := 0
	for k-1 > i && sum+units[k-1].n <= overlap && sum+units[k-1].n+units[j].n <= budget {
		sum += units[k-1].n
		k--
	}
	for k < j && count(text[units[k].s:units[j-1].e]) > overlap {
		k++
	}
	return k
}

// atoms splits text into contiguous units of at most budget tokens each:
// sentences, or smaller pieces of sentences that do not fit.
func atoms(text string, budget int, count func(string) int) []span {
	var out []span
	for _, p := range cutAfter(text, 0, paragraphEnd) {
		sents := cutAfter(text[p[0]:p[1]], p[0], sentenceEnd)
		for si, sp := range sents {
			pieces := fit(text, sp[0], sp[1], budget, count)
			if si == len(sents)-1 {
				pieces[len(pieces)-1].para = true
			}
			out = append(out, pieces...)
		}
	}
	return out
}

// fit returns text[s:e] as one span, or cut between words, then between
// characters, into spans of at most budget tokens.
func fit(text string, s, e, budget int, count func(string) int) []span {
	if n := count(text[s:e]); n <= budget {
		return []span{{s: s, e: e, n: n}}
	}
	words := cutAfter(text[s:e], s, wordEnd)
	if len(words) > 1 {
		var out []span
		for _, w := range words {
			out = append(out, fit(text, w[0], w[1], budget, count)...)
		}
		return out
	}
	// One long "word" (a URL, text without spaces): take the longest run of
	// characters that fits, repeatedly (binary search on the rune count).
	var out []span
	for s < e {
		runes := []int{} // byte offsets after each rune
		for o := s; o < e; {
			_, size := utf8.DecodeRuneInString(text[o:e])
			o += size
			runes = append(runes, o)
		}
		lo, hi := 1, len(runes) // lo always fits (one rune is at most a few tokens)
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if count(text[s:runes[mid-1]]) <= budget {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		end := runes[lo-1]
		out = append(out, span{s: s, e: end, n: count(text[s:end])})
		s = end
	}
	return out
}

// cutAfter splits t into [start, end) byte ranges (offset by base) that
// end where end(t, i) says a unit ends at byte i; the ranges cover t.
func cutAfter(t string, base int, end func(t string, i int) int) [][2]int {
	var out [][2]int
	start := 0
	for i := 0; i < len(t); {
		if n := end(t, i); n > 0 {
			out = append(out, [2]int{base + start, base + i + n})
			start = i + n
			i = start
			continue
		}
		_, size := utf8.DecodeRuneInString(t[i:])
		i += size
	}
	if start < len(t) || len(out) == 0 {
		out = append(out, [2]int{base + start, base + len(t)})
	}
	return out
}

// paragraphEnd: a blank line (two or more newlines, with any spaces
// between) ends a paragraph; the unit takes the whole run of whitespace.
func paragraphEnd(t string, i int) int {
	if t[i] != '\n' {
		return 0
	}
	j, newlines := i, 0
	for j < len(t) && (t[j] == '\n' || t[j] == '\r' || t[j] == ' ' || t[j] == '\t') {
		if t[j] == '\n' {
			newlines++
		}
		j++
	}
	if newlines < 2 || j == len(t) {
		return 0
	}
	return j - i
}

// sentenceEnd: sentence punctuation (with closing quotes or brackets)
// followed by whitespace, CJK full stops, or a line break.
func sentenceEnd(t string, i int) int {
	r, size := utf8.DecodeRuneInString(t[i:])
	switch r {
	case '\n':
		return spaceRun(t, i)
	case '。', '！', '？':
		j := i + size
		return j - i + spaceRun(t, j)
	case '.', '!', '?':
		j := i + size
		for j < len(t) && strings.ContainsRune(`"')]»”’`, rune(t[j])) {
			j++
		}
		if n := spaceRun(t, j); n > 0 {
			return j - i + n
		}
	}
	return 0
}

// wordEnd: a word ends after a run of whitespace.
func wordEnd(t string, i int) int {
	r, _ := utf8.DecodeRuneInString(t[i:])
	if !unicode.IsSpace(r) {
		return 0
	}
	return spaceRun(t, i)
}

// spaceRun is the byte length of the whitespace starting at i.
func spaceRun(t string, i int) int {
	j := i
	for j < len(t) {
		r, size := utf8.DecodeRuneInString(t[j:])
		if !unicode.IsSpace(r) {
			break
		}
		j += size
	}
	return j - i
}
