//go:build js && wasm

package runtime

import (
	"context"
	"fmt"
	"time"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/model"
)

// Progress reports loading: bytes of tensor data read so far out of total,
// and the tensor just read.
type Progress struct {
	Done, Total int64
	Tensor      string
}

// LoadOptions configure Load.
type LoadOptions struct {
	// Precision is "auto" (f16 where the device has shader-f16), "f32" or "f16".
	Precision string
	MaxChunk  int
	Fault     *Fault
	// Device to use; nil opens one (and Close destroys it).
	Device   *gpu.Device
	Progress func(Progress)
	// Arch adjusts binding (e.g. HF's rounded RoPE frequencies for tests).
	Arch arch.Options
	// Profile opens the device with timestamp-query and times every replay
	// (doppler bench --profile).
	Profile bool
}

// Model is a model loaded on the GPU.
type Model struct {
	Backend  *Backend
	Arch     arch.Model
	Config   *model.Config
	LoadTime time.Duration
	ownsDev  bool
}

// CheckPrecision refuses a precision name ResolvePrecision would not take,
// before any device is at hand (the service worker checks a bench request
// so before it frees its warm model).
func CheckPrecision(p string) error {
	switch p {
	case "", "auto", "f32", "f16":
		return nil
	}
	return fmt.Errorf("unknown precision %q (want auto, f32 or f16)", p)
}

// ResolvePrecision picks the activation precision for dev.
func ResolvePrecision(p string, dev *gpu.Device) (gpuops.Precision, error) {
	if err := CheckPrecision(p); err != nil {
		return 0, err
	}
	switch p {
	case "", "auto":
		if dev.HasFeature(gpu.FeatureShaderF16) {
			return gpuops.F16, nil
		}
		return gpuops.F32, nil
	case "f16":
		if !dev.HasFeature(gpu.FeatureShaderF16) {
			return 0, fmt.Errorf("--precision f16 needs the shader-f16 feature, which this GPU (%s) lacks: use --precision f32 or auto", dev.Info.Adapter.Description)
		}
		return gpuops.F16, nil
	}
	return gpuops.F32, nil
}

// progressSource counts the bytes of tensors as the loader reads them, one
// tensor at a time (the loader uploads each before reading the next).
type progressSource struct {
	model.Source
	done, total int64
	fn          func(Progress)
	ctx         context.Context
}

func (p *progressSource) ReadTensor(name string) ([]byte, error) {
	if err := p.ctx.Err(); err != nil {
		return nil, err
	}
	raw, err := p.Source.ReadTensor(name)
	if err != nil {
		return nil, err
	}
	p.done += int64(len(raw))
	if p.fn != nil {
		p.fn(Progress{Done: p.done, Total: p.total, Tensor: name})
	}
	return raw, nil
}

// Load opens a GPU device (unless given) and streams src's weights into GPU
// buffers tensor by tensor, packed in their dtype.
func Load(ctx context.Context, src model.Source, o LoadOptions) (*Model, error) {
	start := time.Now()
	dev, owns := o.Device, false
	if dev == nil {
		var err error
		var opts gpu.Options
		if o.Profile {
			opts.OptionalFeatures = []string{gpu.FeatureShaderF16, gpu.FeatureSubgroups, gpu.FeatureTimestampQuery}
		}
		if dev, err = gpu.Open(ctx, opts); err != nil {
			return nil, err
		}
		owns = true
	}
	fail := func(err error) (*Model, error) {
		if owns {
			dev.Destroy()
		}
		return nil, err
	}
	prec, err := ResolvePrecision(o.Precision, dev)
	if err != nil {
		return fail(err)
	}
	be, err := NewBackend(ctx, dev, BackendOptions{Precision: prec, MaxChunk: o.MaxChunk, Fault: o.Fault, Profile: o.Profile})
	if err != nil {
		return fail(err)
	}
	ps := &progressSource{Source: src, fn: o.Progress, ctx: ctx}
	for _, t := range src.Tensors() {
		if n, err := t.Bytes(); err == nil {
			ps.total += n
		}
	}
	m, err := loadArch(ps, be, o.Arch)
	if err != nil {
		(&Model{Backend: be, ownsDev: owns}).Close()
		return nil, err
	}
	return &Model{Backend: be, Arch: m, Config: src.Config(), LoadTime: time.Since(start), ownsDev: owns}, nil
}

// loadArch binds the weights, turning a backend panic into an error.
func loadArch(src model.Source, be arch.Backend, o arch.Options) (m arch.Model, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("loading the model on the GPU: %v", p)
		}
	}()
	return arch.LoadWith(src, be, o)
}

// Close frees the model's weights once the GPU is done with them, and its
// device when Load opened it. Close its sessions first.
func (m *Model) Close() {
	be := m.Backend
	for _, w := range be.weights {
		be.pool.Defer(w.Destroy)
	}
	be.weights = nil
	be.gpuBytes -= min(be.gpuBytes, be.weightBytes)
	if m.ownsDev {
		forgetDevice(m.Backend.dev)
		m.Backend.dev.Destroy()
	}
}

// GPUBytes is the memory the model holds on the GPU: weights, caches, step
// and activation buffers.
func (m *Model) GPUBytes() uint64 {
	_, _, live := m.Backend.pool.Stats()
	return m.Backend.gpuBytes + live
}

// WeightBytes is the size of the weights on the GPU.
func (m *Model) WeightBytes() uint64 { return m.Backend.weightBytes }

// JSCalls is the number of Go→JS calls made by graph replays so far.
func (m *Model) JSCalls() int { return m.Backend.jsCalls }
