package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/doppler-engine/doppler/storage"
)

// Error codes, as the extension's worker messages carry them (DESIGN.md).
const (
	CodeQuota        = "quota"         // not enough storage, before or during a download
	CodeNetwork      = "network"       // the server could not be reached or dropped us (resumable)
	CodeCorruptModel = "corrupt-model" // a shard's bytes no longer match its SHA-256: download again
	CodeNoModel      = "no-model"      // no ready model of that id
	CodeCancelled    = "cancelled"     // the caller cancelled (resumable)
	CodeInvalidModel = "invalid-model" // the file is not a GGUF model this engine can use
	CodeInternal     = "internal"      // anything else
)

// Error is what the store's operations return: a stable Code for the UI, a
// sentence a user can act on, and what to download again where that helps.
type Error struct {
	Code    string
	ModelID string
	Message string
	// Source is the URL (or catalog id) to download the model again, set for
	// corrupt-model and resumable failures.
	Source string
	Err    error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// networkError marks a failure of the HTTP side (connection, status, early
// end of body), which a retry with Range may fix.
type networkError struct{ err error }

func (e *networkError) Error() string { return e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

// invalidError marks a source that is not a usable GGUF model.
type invalidError struct{ err error }

func (e *invalidError) Error() string { return e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

// classify turns any failure of a job on model id into an *Error.
func classify(id, source string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	out := &Error{Code: CodeInternal, ModelID: id, Source: source, Err: err}
	var corrupt *shards.CorruptError
	var inv *model.InvalidError
	var ie *invalidError
	var ne *networkError
	switch {
	case errors.Is(err, storage.ErrQuotaExceeded):
		out.Code = CodeQuota
		out.Message = fmt.Sprintf("Not enough storage for model %s: free some space (delete a model) and resume the download.", id)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		out.Code = CodeCancelled
		out.Message = fmt.Sprintf("The download of %s was stopped; start it again to resume.", id)
	case errors.As(err, &corrupt):
		out.Code = CodeCorruptModel
		out.Message = fmt.Sprintf("Model %s is damaged (%s): download it again.", id, corrupt.Reason)
	case errors.As(err, &inv), errors.As(err, &ie):
		out.Code = CodeInvalidModel
		out.Message = fmt.Sprintf("%s cannot be used: %v", id, err)
		out.Source = ""
	case errors.As(err, &ne):
		out.Code = CodeNetwork
		out.Message = fmt.Sprintf("The download of %s failed (%v); check the connection and start it again to resume.", id, err)
	default:
		out.Message = fmt.Sprintf("Model %s: %v", id, err)
	}
	return out
}
