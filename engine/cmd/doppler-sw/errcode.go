//go:build js && wasm

package main

import (
	"context"
	"errors"
	"strings"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/doppler-engine/doppler/storage/store"
)

// Error codes of the Port protocol (DESIGN.md) that the store does not
// define itself.
const (
	codeNoWebGPU        = "no-webgpu"
	codeTooBigForGPU    = "too-big-for-gpu"
	codeContextOverflow = "context-overflow"
)

// codeOf maps an error to its stable protocol code and a sentence for the
// user.
func codeOf(err error) (code, message string) {
	var se *store.Error
	var ce *runtime.ContextError
	switch {
	case errors.As(err, &se):
		return se.Code, se.Message
	case errors.Is(err, context.Canceled):
		return store.CodeCancelled, "Cancelled."
	case errors.As(err, &ce):
		return codeContextOverflow, err.Error()
	case errors.Is(err, gpu.ErrNoWebGPU), errors.Is(err, gpu.ErrNoAdapter):
		return codeNoWebGPU, "WebGPU is not available in this browser: " + err.Error()
	case errors.Is(err, runtime.ErrDeviceLost):
		return store.CodeInternal, err.Error()
	}
	if isTooBig(err) || strings.Contains(err.Error(), "too big for this GPU") {
		return codeTooBigForGPU, "The model does not fit this GPU's memory or buffer limits: " + err.Error()
	}
	return store.CodeInternal, err.Error()
}

// isTooBig recognizes WebGPU's refusals of a buffer larger than the device
// allows (validation or out-of-memory errors at load).
func isTooBig(err error) bool {
	var je *webjs.Error
	if errors.As(err, &je) && (je.Name == "RangeError" || je.Name == "GPUOutOfMemoryError") {
		return true
	}
	var ge *gpu.Error
	if errors.As(err, &ge) && ge.Filter == "out-of-memory" {
		return true
	}
	return false
}

// codedError is a Go error as the engine's promises reject it: a JS Error
// whose name is the protocol code (background.js reads err.name).
func codedError(err error) error {
	code, msg := codeOf(err)
	return &webjs.Error{Name: code, Message: msg}
}
