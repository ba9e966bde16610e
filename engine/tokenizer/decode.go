package tokenizer

import "strings"

// piece renders one token as bytes of text (llama.cpp's token_to_piece
// with special=false): control and unknown tokens render as nothing, byte
// tokens as their byte, normal tokens with "▁" → " " (SentencePiece) or
// GPT-2's byte mapping undone (byte-level BPE).
func (t *Tokenizer) piece(id int32) string {
	if id < 0 || int(id) >= len(t.pieces) {
		return ""
	}
	a, p := t.attrs[id], t.pieces[id]
	switch {
	case a&(attrControl|attrUnknown) != 0:
		return ""
	case a&attrByte != 0:
		if b, ok := byteOf(p); ok {
			return string([]byte{b})
		}
		return ""
	case a&attrUserDefined != 0:
		// llama.cpp copies user-defined pieces verbatim; HF's decoder still
		// maps "▁" to " " (Gemma's "▁▁" whitespace tokens), which is what
		// the text means, so we do that.
		if t.escapeSpaces {
			return strings.ReplaceAll(p, "▁", " ")
		}
		return p
	case a&attrNormal != 0:
		if t.byteLvl {
			return byteDecode(p)
		}
		return strings.ReplaceAll(p, "▁", " ")
	}
	return ""
}

// byteOf parses "<0xNN>".
func byteOf(p string) (byte, bool) {
	if len(p) != 6 || p[:3] != "<0x" || p[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(p[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

func byteDecode(p string) string {
	buf := make([]byte, 0, len(p))
	for _, r := range p {
		if b, ok := unicodeToByte[r]; ok {
			buf = append(buf, b)
		} else {
			buf = append(buf, string(r)...)
		}
	}
	return string(buf)
}

// Decode turns tokens back into text. Control tokens (BOS, <end_of_turn>,
// ...) render as nothing. When the vocabulary adds a leading space to text
// (SentencePiece's add_space_prefix), the first token loses its leading
// space, so Decode(Encode(s, false)) == s. Unlike llama.cpp we never apply
// the "clean up spaces" pass (" ." → "."): decoding stays lossless.
func (t *Tokenizer) Decode(ids []int32) string {
	var b strings.Builder
	for i, id := range ids {
		p := t.piece(id)
		if i == 0 && t.addSpacePrefix {
			p = strings.TrimPrefix(p, " ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// StreamDecoder releases text as tokens arrive, never splitting a UTF-8
// character (byte-fallback tokens of one character may arrive one by one).
// The concatenation of everything Push and Flush return equals Decode of all
// pushed tokens.
type StreamDecoder struct {
	t       *Tokenizer
	pending []byte
	first   bool
}

// NewStreamDecoder starts a stream; its first token loses a leading space
// like Decode's.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t, first: true}
}

// NewContinuationDecoder streams tokens that continue earlier text (a
// generated reply after its prompt): the first token keeps its leading
// space, so prompt text + stream == Decode(prompt + generated).
func (t *Tokenizer) NewContinuationDecoder() *StreamDecoder {
	return &StreamDecoder{t: t}
}

// Push adds a token and returns the text that is now complete.
func (d *StreamDecoder) Push(id int32) string {
	p := d.t.piece(id)
	if d.first {
		d.first = false
		if d.t.addSpacePrefix {
			p = strings.TrimPrefix(p, " ")
		}
	}
	d.pending = append(d.pending, p...)
	n := completePrefix(d.pending)
	out := string(d.pending[:n])
	d.pending = append(d.pending[:0], d.pending[n:]...)
	return out
}

// Flush returns whatever is held back (an incomplete character at the end
// of the stream, as raw bytes).
func (d *StreamDecoder) Flush() string {
	out := string(d.pending)
	d.pending = d.pending[:0]
	return out
}

// completePrefix returns the length of b without a trailing, still
// incomplete UTF-8 sequence. Bytes that can never complete (stray
// continuation bytes) are released as they are.
func completePrefix(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-4; i-- {
		c := b[i]
		if c < 0x80 {
			return len(b)
		}
		if c >= 0xC0 {
			if len(b)-i < utf8Len(c) {
				return i
			}
			return len(b)
		}
	}
	return len(b)
}
