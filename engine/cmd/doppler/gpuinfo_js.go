//go:build js && wasm

package main

import (
	"context"
	"time"

	"github.com/doppler-engine/doppler/engine/gpu"
)

func openGPUInfo() (*gpu.Info, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dev, err := gpu.Open(ctx, gpu.Options{})
	if err != nil {
		return nil, err
	}
	defer dev.Destroy()
	info := dev.Info
	return &info, nil
}
