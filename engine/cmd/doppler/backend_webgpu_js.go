//go:build js && wasm

package main

// webgpuInProcess reports whether this build talks to WebGPU itself: the
// js/wasm CLI (under build/wasm-exec, or in a browser) runs --backend webgpu
// in-process.
const webgpuInProcess = true
