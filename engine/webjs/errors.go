//go:build js && wasm

package webjs

import (
	"github.com/hack-pad/safejs"
)

// Error is a JavaScript exception or rejection reason as a Go error.
type Error struct {
	Name    string // e.g. "TypeError", "OperationError"; empty for non-Error values
	Message string
}

func (e *Error) Error() string {
	if e.Name == "" {
		return e.Message
	}
	return e.Name + ": " + e.Message
}

// JSError converts a JS value (usually an Error) to a Go error. Error objects
// give their name and message; other values their string form.
func JSError(v safejs.Value) error {
	switch v.Type() {
	case safejs.TypeObject:
		name, _ := StringProp(v, "name")
		msg, _ := StringProp(v, "message")
		if name != "" || msg != "" {
			return &Error{Name: name, Message: msg}
		}
	case safejs.TypeUndefined, safejs.TypeNull:
		return &Error{Message: "rejected with " + v.Type().String()}
	}
	s, err := Stringify(v)
	if err != nil {
		return &Error{Message: "unprintable JS value"}
	}
	return &Error{Message: s}
}

// NewError returns a JS Error holding err's message (and its Name when err
// is an *Error), for rejecting promises and throwing.
func NewError(err error) safejs.Value {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	ctor, e := safejs.Global().Get("Error")
	if e != nil {
		return safejs.Undefined()
	}
	v, e := ctor.New(msg)
	if e != nil {
		return safejs.Undefined()
	}
	if je, ok := err.(*Error); ok && je.Name != "" {
		_ = v.Set("name", je.Name)
		_ = v.Set("message", je.Message)
	}
	return v
}

// StringProp returns v[name] as a string, or "" when it is not a string.
func StringProp(v safejs.Value, name string) (string, error) {
	p, err := v.Get(name)
	if err != nil || p.Type() != safejs.TypeString {
		return "", err
	}
	return p.String()
}

// Stringify returns String(v).
func Stringify(v safejs.Value) (string, error) {
	s, err := safejs.Global().Get("String")
	if err != nil {
		return "", err
	}
	r, err := s.Invoke(v)
	if err != nil {
		return "", err
	}
	return r.String()
}
