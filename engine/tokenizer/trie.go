package tokenizer

import "sort"

// trie matches special-token texts in raw text (leftmost, longest first).
type trie struct {
	nodes []trieNode
	first [256]bool // bytes that start some entry: a fast skip
}

type trieNode struct {
	edges []trieEdge // sorted by byte
	id    int32      // token ending here, or null
}

type trieEdge struct {
	b     byte
	child int32
}

func newTrie() *trie { return &trie{nodes: []trieNode{{id: null}}} }

func (tr *trie) insert(s string, id int32) {
	if s == "" {
		return
	}
	tr.first[s[0]] = true
	n := int32(0)
	for i := 0; i < len(s); i++ {
		c := tr.child(n, s[i])
		if c < 0 {
			c = int32(len(tr.nodes))
			tr.nodes = append(tr.nodes, trieNode{id: null})
			e := tr.nodes[n].edges
			j := sort.Search(len(e), func(k int) bool { return e[k].b >= s[i] })
			e = append(e, trieEdge{})
			copy(e[j+1:], e[j:])
			e[j] = trieEdge{b: s[i], child: c}
			tr.nodes[n].edges = e
		}
		n = c
	}
	if tr.nodes[n].id == null {
		tr.nodes[n].id = id
	}
}

func (tr *trie) child(n int32, b byte) int32 {
	e := tr.nodes[n].edges
	lo, hi := 0, len(e)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case e[m].b == b:
			return e[m].child
		case e[m].b < b:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

// match returns the longest entry starting at s[0], and its length.
func (tr *trie) match(s string) (int32, int) {
	id, size := null, 0
	n := int32(0)
	for i := 0; i < len(s); i++ {
		n = tr.child(n, s[i])
		if n < 0 {
			break
		}
		if tr.nodes[n].id != null {
			id, size = tr.nodes[n].id, i+1
		}
	}
	return id, size
}

func (t *Tokenizer) buildTries() {
	t.userTrie, t.specialTrie = newTrie(), newTrie()
	for i, a := range t.attrs {
		if a&(attrControl|attrUserDefined|attrUnknown) == 0 {
			continue
		}
		t.specialTrie.insert(t.pieces[i], int32(i))
		if a&(attrControl|attrUnknown) == 0 {
			t.userTrie.insert(t.pieces[i], int32(i))
		}
	}
}

// fragment is raw text (tok == null) or one special token.
type fragment struct {
	text string
	tok  int32
}

// partition splits text at special tokens: user-defined ones always,
// control and unknown ones only when parseSpecial (template text). Matching
// is leftmost-longest, as HF's added-token matcher does; llama.cpp, which
// splits longest token first, agrees except on overlapping token texts.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	tr := t.userTrie
	if parseSpecial {
		tr = t.specialTrie
	}
	var out []fragment
	start := 0
	rstrip := false
	for i := 0; i < len(text); {
		if !tr.first[text[i]] {
			i++
			continue
		}
		id, size := tr.match(text[i:])
		if id == null {
			i++
			continue
		}
		left := text[start:i]
		if rstrip {
			left = trimLeftSpace(left)
		}
		if t.attrs[id]&attrLStrip != 0 {
			left = trimRightSpace(left)
		}
		if left != "" {
			out = append(out, fragment{text: left, tok: null})
		}
		out = append(out, fragment{tok: id})
		rstrip = t.attrs[id]&attrRStrip != 0
		i += size
		start = i
	}
	rest := text[start:]
	if rstrip {
		rest = trimLeftSpace(rest)
	}
	if rest != "" {
		out = append(out, fragment{text: rest, tok: null})
	}
	return out
}

// isCSpace is C's isspace, which llama.cpp uses for lstrip/rstrip.
func isCSpace(b byte) bool { return b == ' ' || (b >= '\t' && b <= '\r') }

func trimLeftSpace(s string) string {
	for len(s) > 0 && isCSpace(s[0]) {
		s = s[1:]
	}
	return s
}

func trimRightSpace(s string) string {
	for len(s) > 0 && isCSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
