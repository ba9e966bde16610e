package tokenizer

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small scanner for the two large parts of tokenizer.json — the vocabulary
// object and the merges array — which encoding/json decodes several times
// slower (it dominates loading a 262k-token Gemma vocabulary, in wasm too).

type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) errf(format string, a ...any) error {
	return fmt.Errorf("tokenizer.json at byte %d: %s", s.i, fmt.Sprintf(format, a...))
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte (0 at the end).
func (s *jsonScan) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *jsonScan) expect(c byte) error {
	if s.peek() != c {
		return s.errf("want %q", c)
	}
	s.i++
	return nil
}

func (s *jsonScan) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start := s.i
	// Fast path: no escapes.
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := string(s.b[start:s.i])
			s.i++
			return v, nil
		}
		if c == '\\' {
			break
		}
		s.i++
	}
	buf := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(buf), nil
		case c != '\\':
			buf = append(buf, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := s.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					if r2, err = s.hex4(); err != nil {
						return "", err
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
					} else {
						s.i = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", s.errf("bad escape \\%c", e)
		}
	}
	return "", s.errf("unterminated string")
}

func (s *jsonScan) hex4() (rune, error) {
	if s.i+4 > len(s.b) {
		return 0, s.errf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, s.errf("bad \\u escape")
	}
	s.i += 4
	return rune(v), nil
}

func (s *jsonScan) int32() (int32, error) {
	s.ws()
	start := s.i
	for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] >= '0' && s.b[s.i] <= '9') {
		s.i++
	}
	v, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 32)
	if err != nil {
		return 0, s.errf("want an integer id")
	}
	return int32(v), nil
}

// vocabObject parses {"token": id, ...}.
func vocabObject(raw []byte) (map[string]int32, error) {
	s := &jsonScan{b: raw}
	if err := s.expect('{'); err != nil {
		return nil, err
	}
	m := make(map[string]int32, len(raw)/16)
	if s.peek() == '}' {
		return m, nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return nil, err
		}
		if err := s.expect(':'); err != nil {
			return nil, err
		}
		v, err := s.int32()
		if err != nil {
			return nil, err
		}
		m[k] = v
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			return m, nil
		default:
			return nil, s.errf("want , or }")
		}
	}
}

// mergesArray parses ["a b", ...] or [["a", "b"], ...] into "a b" strings.
func mergesArray(raw []byte) ([]string, error) {
	s := &jsonScan{b: raw}
	if s.peek() == 'n' { // null
		return nil, nil
	}
	if err := s.expect('['); err != nil {
		return nil, err
	}
	var out []string
	if s.peek() == ']' {
		return out, nil
	}
	for {
		if s.peek() == '[' {
			s.i++
			a, err := s.str()
			if err != nil {
				return nil, err
			}
			if err := s.expect(','); err != nil {
				return nil, err
			}
			b, err := s.str()
			if err != nil {
				return nil, err
			}
			if err := s.expect(']'); err != nil {
				return nil, err
			}
			out = append(out, a+" "+b)
		} else {
			m, err := s.str()
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			return out, nil
		default:
			return nil, s.errf("want , or ]")
		}
	}
}
