//go:build js && wasm

package gpu

import (
	"context"
	"fmt"
	"strings"

	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/hack-pad/safejs"
)

const shaderStageCompute = 4 // GPUShaderStage.COMPUTE

// BindGroupLayout is an explicit GPUBindGroupLayout of buffer bindings,
// numbered by position.
type BindGroupLayout struct {
	Entries []BindingType
	v       safejs.Value
}

// CreateBindGroupLayout makes a layout whose binding i has type entries[i],
// visible to compute shaders.
func (d *Device) CreateBindGroupLayout(label string, entries ...BindingType) (*BindGroupLayout, error) {
	list := make([]any, len(entries))
	for i, e := range entries {
		list[i] = map[string]any{
			"binding":    i,
			"visibility": shaderStageCompute,
			"buffer":     map[string]any{"type": e.jsName()},
		}
	}
	v, err := d.device.Call("createBindGroupLayout", map[string]any{"label": label, "entries": list})
	if err != nil {
		return nil, fmt.Errorf("gpu: createBindGroupLayout %q: %w", label, err)
	}
	return &BindGroupLayout{Entries: entries, v: v}, nil
}

// PipelineDesc describes a compute pipeline.
type PipelineDesc struct {
	Label      string
	Code       string // WGSL
	EntryPoint string // default "main"
	// Layouts are the bind group layouts for groups 0, 1, ...
	Layouts []*BindGroupLayout
	// Constants are pipeline-overridable constants (WGSL `override`).
	Constants map[string]float64
}

// ComputePipeline is a GPUComputePipeline with its layouts.
type ComputePipeline struct {
	Label   string
	Layouts []*BindGroupLayout
	v       safejs.Value
}

// CreateComputePipeline compiles desc.Code and builds the pipeline with an
// explicit pipeline layout. WGSL compile errors come back with line numbers.
func (d *Device) CreateComputePipeline(ctx context.Context, desc PipelineDesc) (*ComputePipeline, error) {
	entry := desc.EntryPoint
	if entry == "" {
		entry = "main"
	}
	var module, layout safejs.Value
	err := d.Scope(ctx, func() error {
		var err error
		module, err = d.device.Call("createShaderModule", map[string]any{"label": desc.Label, "code": desc.Code})
		if err != nil {
			return err
		}
		groups := make([]any, len(desc.Layouts))
		for i, l := range desc.Layouts {
			groups[i] = l.v
		}
		layout, err = d.device.Call("createPipelineLayout", map[string]any{"label": desc.Label, "bindGroupLayouts": groups})
		return err
	})
	if cerr := compileErrors(ctx, module); cerr != nil {
		return nil, fmt.Errorf("gpu: compiling %q: %w", desc.Label, cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("gpu: pipeline %q: %w", desc.Label, err)
	}
	compute := map[string]any{"module": module, "entryPoint": entry}
	if len(desc.Constants) > 0 {
		c := map[string]any{}
		for k, v := range desc.Constants {
			c[k] = v
		}
		compute["constants"] = c
	}
	p, err := d.device.Call("createComputePipelineAsync", map[string]any{
		"label":   desc.Label,
		"layout":  layout,
		"compute": compute,
	})
	if err != nil {
		return nil, fmt.Errorf("gpu: pipeline %q: %w", desc.Label, err)
	}
	v, err := webjs.AwaitContext(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("gpu: pipeline %q: %w", desc.Label, err)
	}
	return &ComputePipeline{Label: desc.Label, Layouts: desc.Layouts, v: v}, nil
}

// compileErrors returns the module's compilation errors, nil when none.
func compileErrors(ctx context.Context, module safejs.Value) error {
	if module.Type() != safejs.TypeObject {
		return nil
	}
	p, err := module.Call("getCompilationInfo")
	if err != nil {
		return nil // not offered by this implementation
	}
	info, err := webjs.AwaitContext(ctx, p)
	if err != nil {
		return err
	}
	msgs, err := info.Get("messages")
	if err != nil {
		return nil
	}
	n, _ := msgs.Length()
	var lines []string
	for i := 0; i < n; i++ {
		m, err := msgs.Index(i)
		if err != nil {
			continue
		}
		if typ, _ := webjs.StringProp(m, "type"); typ != "error" {
			continue
		}
		text, _ := webjs.StringProp(m, "message")
		lines = append(lines, fmt.Sprintf("%d:%d: %s", intProp(m, "lineNum"), intProp(m, "linePos"), text))
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(lines, "; "))
}

// Binding is a buffer range bound at one binding of a bind group.
type Binding struct {
	Buffer *Buffer
	Offset uint64
	Size   uint64 // 0: to the end of the buffer
}

// BindGroup is a GPUBindGroup.
type BindGroup struct {
	Label string
	v     safejs.Value
}

// CreateBindGroup binds entries[i] at binding i of layout.
func (d *Device) CreateBindGroup(label string, layout *BindGroupLayout, entries ...Binding) (*BindGroup, error) {
	if len(entries) != len(layout.Entries) {
		return nil, fmt.Errorf("gpu: bind group %q has %d entries, its layout %d", label, len(entries), len(layout.Entries))
	}
	list := make([]any, len(entries))
	for i, e := range entries {
		res := map[string]any{"buffer": e.Buffer.v, "offset": float64(e.Offset)}
		if e.Size != 0 {
			res["size"] = float64(e.Size)
		}
		list[i] = map[string]any{"binding": i, "resource": res}
	}
	v, err := d.device.Call("createBindGroup", map[string]any{"label": label, "layout": layout.v, "entries": list})
	if err != nil {
		return nil, fmt.Errorf("gpu: createBindGroup %q: %w", label, err)
	}
	return &BindGroup{Label: label, v: v}, nil
}
