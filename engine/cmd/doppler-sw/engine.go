//go:build js && wasm

package main

import (
	"context"
	"errors"
	"sync"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// version is reported in status replies; the build may set it with
// -ldflags "-X main.version=...".
var version = "dev"

// engine holds the worker's long-lived state: the GPU device, opened on
// first use and kept for the worker's lifetime.
type engine struct {
	mu  sync.Mutex
	dev *gpu.Device
}

func newEngine() *engine { return &engine{} }

// statusReply is the body of the Port protocol's status message (background.js
// adds type and id): webgpu is null with a reason when WebGPU is unusable.
type statusReply struct {
	Version string    `json:"version"`
	WebGPU  *gpu.Info `json:"webgpu"`
	Reason  string    `json:"reason,omitempty"`
	Code    string    `json:"code,omitempty"`
}

func (e *engine) status(ctx context.Context) statusReply {
	dev, err := e.device(ctx)
	if err != nil {
		code := "internal"
		if errors.Is(err, gpu.ErrNoWebGPU) || errors.Is(err, gpu.ErrNoAdapter) {
			code = "no-webgpu"
		}
		return statusReply{Version: version, Reason: err.Error(), Code: code}
	}
	info := dev.Info
	return statusReply{Version: version, WebGPU: &info}
}

// device opens the GPU once; a failed or lost device is retried next time.
func (e *engine) device(ctx context.Context) (*gpu.Device, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dev != nil && e.dev.Lost() == "" {
		return e.dev, nil
	}
	dev, err := gpu.Open(ctx, gpu.Options{})
	if err != nil {
		return nil, err
	}
	e.dev = dev
	return dev, nil
}
