//go:build !(js && wasm)

package main

import (
	"errors"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// openGPUInfo is never reached natively: gpuinfo goes through the host.
func openGPUInfo() (*gpu.Info, error) {
	return nil, errors.New("gpuinfo needs WebGPU: run it through the Node + Dawn host")
}
