//go:build js && wasm

package opfs

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall/js"

	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/doppler-engine/doppler/storage"
	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/safejs"
)

// DOMError is a DOMException (or other JS error) raised by the OPFS API.
// errors.Is maps its Name to the io/fs and hackpadfs errors, and
// QuotaExceededError to storage.ErrQuotaExceeded.
type DOMError struct {
	Name    string // e.g. "NotFoundError", "QuotaExceededError"
	Message string
}

func (e *DOMError) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Name + ": " + e.Message
}

// Is reports the io/fs meaning of the DOM error name.
func (e *DOMError) Is(target error) bool {
	switch e.Name {
	case "NotFoundError":
		return target == fs.ErrNotExist
	case "InvalidModificationError": // removeEntry of a non-empty directory
		return target == hackpadfs.ErrNotEmpty
	case "NoModificationAllowedError", "NotAllowedError", "SecurityError":
		return target == fs.ErrPermission
	case "QuotaExceededError":
		return target == storage.ErrQuotaExceeded
	case "TypeError": // e.g. a name OPFS refuses
		return target == hackpadfs.ErrInvalid
	}
	return false
}

func isDOM(err error, name string) bool {
	var d *DOMError
	return errors.As(err, &d) && d.Name == name
}

// toError turns a JS rejection value into a Go error.
func toError(v safejs.Value) error {
	if v.Type() != safejs.TypeObject {
		s, _ := v.String()
		return &DOMError{Name: "Error", Message: s}
	}
	name, _ := stringProp(v, "name")
	msg, _ := stringProp(v, "message")
	if name == "" {
		name = "Error"
	}
	return &DOMError{Name: name, Message: msg}
}

func stringProp(v safejs.Value, p string) (string, error) {
	x, err := v.Get(p)
	if err != nil {
		return "", err
	}
	if x.Type() != safejs.TypeString {
		return "", fmt.Errorf("%s is not a string", p)
	}
	return x.String()
}

// await blocks the calling goroutine until p settles (engine/webjs does the
// waiting); rejections become *DOMError. Never call it from inside a JS
// callback.
func await(p safejs.Value) (safejs.Value, error) {
	v, err := webjs.Await(p)
	var we *webjs.Error
	if errors.As(err, &we) {
		name := we.Name
		if name == "" {
			name = "Error"
		}
		return v, &DOMError{Name: name, Message: we.Message}
	}
	return v, err
}

// call invokes v.method(args...) and awaits the promise it returns. A
// synchronous throw (safejs turns it into an error) is returned as is.
func call(v safejs.Value, method string, args ...any) (safejs.Value, error) {
	p, err := v.Call(method, args...)
	if err != nil {
		return safejs.Value{}, jsThrow(err)
	}
	return await(p)
}

// jsThrow keeps a synchronous JS exception's DOM name where safejs wraps it.
func jsThrow(err error) error {
	var je js.Error
	if errors.As(err, &je) {
		return toError(safejs.Safe(je.Value))
	}
	return err
}

// object builds a plain JS object from key/value pairs.
func object(kv ...any) (safejs.Value, error) {
	obj, err := safejs.Global().Get("Object")
	if err != nil {
		return safejs.Value{}, err
	}
	o, err := obj.New()
	if err != nil {
		return safejs.Value{}, err
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if err := o.Set(kv[i].(string), kv[i+1]); err != nil {
			return safejs.Value{}, err
		}
	}
	return o, nil
}
