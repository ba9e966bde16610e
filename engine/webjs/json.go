//go:build js && wasm

package webjs

import (
	"encoding/json"

	"github.com/hack-pad/safejs"
)

// ToJSON returns JSON.stringify(v), for moving plain JS data into Go structs.
func ToJSON(v safejs.Value) ([]byte, error) {
	j, err := safejs.Global().Get("JSON")
	if err != nil {
		return nil, err
	}
	s, err := j.Call("stringify", v)
	if err != nil {
		return nil, err
	}
	if s.Type() != safejs.TypeString {
		return []byte("null"), nil
	}
	str, err := s.String()
	return []byte(str), err
}

// FromJSON returns JSON.parse(data): a Go value (marshalled with
// encoding/json) as a plain JS object.
func FromJSON(v any) (safejs.Value, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return safejs.Undefined(), err
	}
	j, err := safejs.Global().Get("JSON")
	if err != nil {
		return safejs.Undefined(), err
	}
	return j.Call("parse", string(data))
}
