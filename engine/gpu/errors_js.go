//go:build js && wasm

package gpu

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/hack-pad/safejs"
)

// Error is a WebGPU error caught by an error scope.
type Error struct {
	Filter  string // "validation", "out-of-memory" or "internal"
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("gpu %s error: %s", e.Filter, e.Message) }

// scopeFilters are pushed in this order and popped in reverse.
var scopeFilters = []string{"internal", "out-of-memory", "validation"}

// Scope runs fn inside validation, out-of-memory and internal error scopes
// and returns fn's error, else the first GPU error the scopes caught.
func (d *Device) Scope(ctx context.Context, fn func() error) error {
	for _, f := range scopeFilters {
		if _, err := d.device.Call("pushErrorScope", f); err != nil {
			return fmt.Errorf("gpu: pushErrorScope: %w", err)
		}
	}
	fnErr := fn()
	var gpuErr error
	for i := len(scopeFilters) - 1; i >= 0; i-- {
		p, err := d.device.Call("popErrorScope")
		if err != nil {
			return fmt.Errorf("gpu: popErrorScope: %w", err)
		}
		v, err := webjs.AwaitContext(ctx, p)
		if err != nil {
			return fmt.Errorf("gpu: popErrorScope: %w", err)
		}
		if gpuErr == nil && v.Type() == safejs.TypeObject {
			msg, _ := webjs.StringProp(v, "message")
			gpuErr = &Error{Filter: scopeFilters[i], Message: msg}
		}
	}
	if fnErr != nil {
		return fnErr
	}
	return gpuErr
}
