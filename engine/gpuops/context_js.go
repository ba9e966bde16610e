//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"
	"sync"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// Context holds what every op needs: the device, the activation precision
// and the device facts kernels are specialized for.
type Context struct {
	Dev  *gpu.Device
	Prec Precision
	// Subgroups selects subgroup reductions; NewContext sets it when the
	// device has the feature. Set it before constructing ops.
	Subgroups bool
	// MaxBinding is the largest byte range bound at once for a weight;
	// larger weights are split into chunks at row boundaries. NewContext sets
	// it to the device's maxStorageBufferBindingSize (tests lower it).
	MaxBinding uint64
	maxPerDim  uint32
	align      uint64 // minStorageBufferOffsetAlignment

	mu    sync.Mutex
	pipes map[string]*kernel
	// parts are the split-k matmuls' partials buffers, q8rows the integer
	// tiled matmuls' 8-bit activations; the last of each the largest
	// (pooled).
	parts, q8rows []*gpu.Buffer
}

// NewContext prepares ops for dev with activations of precision prec. F16
// needs the device's shader-f16 feature.
func NewContext(dev *gpu.Device, prec Precision) (*Context, error) {
	if prec == F16 && !dev.HasFeature(gpu.FeatureShaderF16) {
		return nil, fmt.Errorf("gpuops: f16 activations need the shader-f16 feature, which this device (%s) lacks: use f32", dev.Info.Adapter.Description)
	}
	c := &Context{
		Dev:        dev,
		Prec:       prec,
		Subgroups:  dev.HasFeature(gpu.FeatureSubgroups),
		MaxBinding: dev.Info.Limit("maxStorageBufferBindingSize"),
		maxPerDim:  uint32(dev.Info.Limit("maxComputeWorkgroupsPerDimension")),
		align:      dev.Info.Limit("minStorageBufferOffsetAlignment"),
		pipes:      map[string]*kernel{},
	}
	if c.MaxBinding == 0 {
		c.MaxBinding = 128 << 20
	}
	if c.maxPerDim == 0 {
		c.maxPerDim = 65535
	}
	if c.align == 0 {
		c.align = 256
	}
	return c, nil
}

// ActBytes is the byte size of n activation elements.
func (c *Context) ActBytes(n int) uint64 { return uint64(n * c.Prec.Bytes()) }

// kernel is a compiled pipeline with its single bind group layout (binding
// 0 is the params uniform when the kernel has params).
type kernel struct {
	c      *Context
	pipe   *gpu.ComputePipeline
	layout *gpu.BindGroupLayout
}

// compile builds (or reuses) the pipeline of sh with bindings entries.
func (c *Context) compile(ctx context.Context, sh shader, entries ...gpu.BindingType) (*kernel, error) {
	sh.prec = c.Prec
	if sh.reduce {
		sh.subgroups = c.Subgroups
		sh.sgMin = c.Dev.Info.Adapter.SubgroupMinSize
	}
	src, err := sh.source()
	if err != nil {
		return nil, err
	}
	key := fmt.Sprint(entries) + src
	c.mu.Lock()
	k, ok := c.pipes[key]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	layout, err := c.Dev.CreateBindGroupLayout(sh.kernel, entries...)
	if err != nil {
		return nil, err
	}
	pipe, err := c.Dev.CreateComputePipeline(ctx, gpu.PipelineDesc{Label: sh.kernel, Code: src, Layouts: []*gpu.BindGroupLayout{layout}})
	if err != nil {
		return nil, err
	}
	k = &kernel{c: c, pipe: pipe, layout: layout}
	c.mu.Lock()
	c.pipes[key] = k
	c.mu.Unlock()
	return k, nil
}

// Step is one pipeline launch.
type Step struct {
	Pipeline *gpu.ComputePipeline
	Group    *gpu.BindGroup
	X, Y, Z  uint32
}

// Dispatch is a prepared op: one or more launches (weight chunks, reduction
// passes) whose bind groups and static parameters were made once. Encode it
// as often as needed; Release it once the GPU no longer uses it.
type Dispatch struct {
	Label string
	Steps []Step
	owned []*gpu.Buffer // uniforms and scratch made by Prepare
	// combine is the decode attention's combine pass that ends Steps, for
	// a GEMV of its output to run instead (see Combine).
	combine *GemvCombine
}

// Combine returns the merge of split partials that a decode attention of
// one row ends with (its last launch), which a GEMV of its output can run
// instead (MatMul.PrepareCombine, after DropCombine); ok is false for any
// other dispatch.
func (d *Dispatch) Combine() (c GemvCombine, ok bool) {
	if d == nil || d.combine == nil {
		return GemvCombine{}, false
	}
	return *d.combine, true
}

// DropCombine removes the combine pass Combine names: the attention then
// leaves its output as split partials only.
func (d *Dispatch) DropCombine() {
	if d.combine != nil {
		d.Steps = d.Steps[:len(d.Steps)-1]
		d.combine = nil
	}
}

// Encode records the dispatch's launches into enc.
func (d *Dispatch) Encode(enc *gpu.Encoder) {
	for _, s := range d.Steps {
		if s.X == 0 {
			continue
		}
		enc.Dispatch(s.Pipeline, []*gpu.BindGroup{s.Group}, s.X, s.Y, s.Z)
	}
}

// Release destroys the buffers Prepare made (after the GPU finished with them).
func (d *Dispatch) Release() {
	for _, b := range d.owned {
		b.Destroy()
	}
	d.owned = nil
}

// Dispatches returns the number of launches one Encode records.
func (d *Dispatch) Dispatches() int { return len(d.Steps) }

// add appends a launch of k over groups workgroups (linearized into x, y)
// with params (nil: none) at binding 0 followed by bindings.
func (d *Dispatch) add(k *kernel, params any, groups uint32, bindings ...gpu.Binding) error {
	if params != nil {
		u, err := k.c.Dev.CreateBufferFrom(d.Label+" params", mustUniform(params), gpu.UsageUniform)
		if err != nil {
			return err
		}
		d.owned = append(d.owned, u)
		bindings = append([]gpu.Binding{u.Binding()}, bindings...)
	}
	g, err := k.c.Dev.CreateBindGroup(d.Label, k.layout, bindings...)
	if err != nil {
		return err
	}
	x, y := gpu.Grid(groups, 1, k.c.maxPerDim)
	d.Steps = append(d.Steps, Step{Pipeline: k.pipe, Group: g, X: x, Y: y, Z: 1})
	return nil
}

// pooled is the binding of a buffer of at least size bytes from pool, for
// what one launch writes and the next reads (a split-k matmul's partials,
// a tiled matmul's 8-bit activations). Every matmul of the context shares
// it (the launches that write and read it run in queue order, one after
// the other); a larger need gets a new buffer, and dispatches made before
// keep the old one.
func (c *Context) pooled(pool *[]*gpu.Buffer, label string, size uint64) (gpu.Binding, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(*pool); n > 0 && (*pool)[n-1].Size >= size {
		return (*pool)[n-1].Binding(), nil
	}
	b, err := c.Dev.CreateBuffer(label, size, gpu.UsageStorage)
	if err != nil {
		return gpu.Binding{}, err
	}
	*pool = append(*pool, b)
	return b.Binding(), nil
}

// scratch makes a storage buffer owned by the dispatch.
func (d *Dispatch) scratch(c *Context, label string, size uint64) (*gpu.Buffer, error) {
	b, err := c.Dev.CreateBuffer(d.Label+" "+label, size, gpu.UsageStorage)
	if err != nil {
		return nil, err
	}
	d.owned = append(d.owned, b)
	return b, nil
}

// groupsFor is the number of 64-wide workgroups covering n invocations.
func groupsFor(n int) uint32 { return uint32((n + 63) / 64) }

// absorb appends sub's launches and takes ownership of its buffers.
func (d *Dispatch) absorb(sub *Dispatch) {
	d.Steps = append(d.Steps, sub.Steps...)
	d.owned = append(d.owned, sub.owned...)
	sub.Steps, sub.owned = nil, nil
}
