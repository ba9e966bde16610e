package runtime

import (
	"errors"
	"fmt"
)

// ContextError is a prompt that does not fit the context.
type ContextError struct {
	Tokens, Context int
}

func (e *ContextError) Error() string {
	return fmt.Sprintf("prompt of %d tokens exceeds the context of %d: shorten it or raise --context", e.Tokens, e.Context)
}

// ErrDeviceLost wraps errors caused by losing the GPU device; the model must
// be loaded again (Load opens a fresh device).
var ErrDeviceLost = errors.New("the GPU device was lost: load the model again")

type lostError struct{ reason string }

func (e *lostError) Error() string {
	return fmt.Sprintf("the GPU device was lost (%s): load the model again", e.reason)
}
func (e *lostError) Unwrap() error { return ErrDeviceLost }
