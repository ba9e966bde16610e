//go:build js && wasm

package gpu

import "github.com/hack-pad/safejs"

// Value returns the underlying GPUComputePipeline, for code that encodes
// dispatches itself (the runtime's one-call command-list replay).
func (p *ComputePipeline) Value() safejs.Value { return p.v }

// Value returns the underlying GPUBindGroup.
func (g *BindGroup) Value() safejs.Value { return g.v }

// Queue returns the device's GPUQueue.
func (d *Device) Queue() safejs.Value { return d.queue }
