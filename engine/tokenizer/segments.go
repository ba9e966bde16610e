package tokenizer

// Segment is one piece of a prompt: text a chat template wrote (Template:
// special-token texts in it become their tokens) or text that came from a
// user or a web page (never parsed for control tokens).
type Segment struct {
	Text     string
	Template bool
}

// EncodeSegments tokenizes a prompt made of template and user segments, as
// one text: segments are split at special tokens (control tokens only inside
// template segments, user-defined tokens everywhere) and the text between
// two special tokens is tokenized as one piece even when it spans segments.
// So, when the user segments hold no control-token text, the result equals
// EncodeSpecial of the concatenated text, and when they do (a page quoting
// "<end_of_turn>"), that text stays plain text. Added by engine/tasks.
func (t *Tokenizer) EncodeSegments(segs []Segment, addSpecial bool) []int32 {
	var frags []fragment
	for _, s := range segs {
		if s.Text == "" {
			continue
		}
		for _, f := range t.partition(s.Text, s.Template) {
			if n := len(frags); n > 0 && f.tok == null && frags[n-1].tok == null {
				frags[n-1].text += f.text // text continues across the segment boundary
				continue
			}
			if n := len(frags); n > 0 && f.tok == null && t.attrs[frags[n-1].tok]&attrRStrip != 0 {
				f.text = trimLeftSpace(f.text)
				if f.text == "" {
					continue
				}
			}
			if n := len(frags); n > 0 && f.tok != null && frags[n-1].tok == null && t.attrs[f.tok]&attrLStrip != 0 {
				if frags[n-1].text = trimRightSpace(frags[n-1].text); frags[n-1].text == "" {
					frags = frags[:n-1]
				}
			}
			frags = append(frags, f)
		}
	}
	var out []int32
	if addSpecial && t.addBOS {
		out = append(out, t.bos)
	}
	for _, f := range frags {
		if f.tok != null {
			out = append(out, f.tok)
			continue
		}
		// A lone text fragment encodes exactly as encode's loop does for a
		// fragment that starts the text or follows a special token.
		out = append(out, t.encode(f.text, false, false)...)
	}
	if addSpecial && t.addEOS {
		out = append(out, t.eos)
	}
	return out
}
