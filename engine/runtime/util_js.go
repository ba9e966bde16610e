//go:build js && wasm

package runtime

import "github.com/doppler-engine/doppler/engine/gpu"

func gpuBinding(b *gpu.Buffer) gpu.Binding { return gpu.Binding{Buffer: b} }
