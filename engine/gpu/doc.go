// Package gpu is the engine's thin WebGPU layer over safejs: adapter and
// device (features, limits, adapter info), buffers with read-back, compute
// pipelines with explicit bind group layouts (never layout: 'auto'),
// encoders that record dispatches and copies, and GPU error scopes turned
// into Go errors.
//
// The WebGPU parts build only for js/wasm (browser service worker, or Node
// with Dawn through build/wasm-exec); the plain types in this file set
// (Info, Grid, usages, binding types) build everywhere so native code can
// share them.
//
// Every call that waits on the GPU (Open, ReadBuffer, CreateComputePipeline,
// Scope, Done) awaits a JS promise, so call them from a goroutine that is not
// a JS callback (see webjs.Await).
package gpu
