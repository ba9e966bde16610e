//go:build js && wasm

package gpu

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/hack-pad/safejs"
)

// Options tune Open.
type Options struct {
	// PowerPreference is "high-performance" (the default) or "low-power".
	PowerPreference string
	// RequiredFeatures must be offered by the adapter, else Open fails.
	RequiredFeatures []string
	// OptionalFeatures are enabled when offered. nil means shader-f16 and
	// subgroups; use an empty non-nil slice for none.
	OptionalFeatures []string
	// Limits override requested limits (by name). Unset names in
	// ComputeLimits get the adapter's value.
	Limits map[string]uint64
}

// Device is an opened GPUDevice with its queue and what it offers.
type Device struct {
	Info    Info
	adapter safejs.Value
	device  safejs.Value
	queue   safejs.Value
	lost    chan string
}

// Open requests an adapter and a device with the adapter's best compute
// limits and the optional features it offers.
func Open(ctx context.Context, opts Options) (*Device, error) {
	nav, err := safejs.Global().Get("navigator")
	if err != nil || nav.Type() != safejs.TypeObject {
		return nil, ErrNoWebGPU
	}
	gpu, err := nav.Get("gpu")
	if err != nil || gpu.Type() != safejs.TypeObject {
		return nil, ErrNoWebGPU
	}
	pp := opts.PowerPreference
	if pp == "" {
		pp = "high-performance"
	}
	p, err := gpu.Call("requestAdapter", map[string]any{"powerPreference": pp})
	if err != nil {
		return nil, fmt.Errorf("gpu: requestAdapter: %w", err)
	}
	adapter, err := webjs.AwaitContext(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("gpu: requestAdapter: %w", err)
	}
	if adapter.IsNull() || adapter.IsUndefined() {
		return nil, ErrNoAdapter
	}

	adapterInfo, err := readAdapterInfo(adapter)
	if err != nil {
		return nil, err
	}
	offered, err := readFeatures(adapter)
	if err != nil {
		return nil, err
	}
	adapterLimits, err := readLimits(adapter)
	if err != nil {
		return nil, err
	}

	has := map[string]bool{}
	for _, f := range offered {
		has[f] = true
	}
	var features []any
	for _, f := range opts.RequiredFeatures {
		if !has[f] {
			return nil, fmt.Errorf("gpu: the adapter (%s) does not offer the required feature %q", adapterInfo.Description, f)
		}
		features = append(features, f)
	}
	optional := opts.OptionalFeatures
	if optional == nil {
		optional = []string{FeatureShaderF16, FeatureSubgroups}
	}
	for _, f := range optional {
		if has[f] {
			features = append(features, f)
		}
	}
	required := map[string]any{}
	for _, name := range ComputeLimits {
		if v, ok := adapterLimits[name]; ok {
			required[name] = float64(v)
		}
	}
	for name, v := range opts.Limits {
		required[name] = float64(v)
	}

	p, err = adapter.Call("requestDevice", map[string]any{
		"label":            "doppler",
		"requiredFeatures": features,
		"requiredLimits":   required,
	})
	if err != nil {
		return nil, fmt.Errorf("gpu: requestDevice: %w", err)
	}
	device, err := webjs.AwaitContext(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("gpu: requestDevice: %w", err)
	}
	queue, err := device.Get("queue")
	if err != nil {
		return nil, err
	}
	d := &Device{adapter: adapter, device: device, queue: queue, lost: make(chan string, 1)}
	d.Info.Adapter = adapterInfo
	d.Info.LanguageFeatures = readLanguageFeatures(gpu)
	if d.Info.Features, err = readFeatures(device); err != nil {
		return nil, err
	}
	if d.Info.Limits, err = readLimits(device); err != nil {
		return nil, err
	}
	d.watchLost()
	return d, nil
}

// watchLost records the reason when the device is lost (driver reset,
// Destroy); Lost reports it.
func (d *Device) watchLost() {
	lost, err := d.device.Get("lost")
	if err != nil || !webjs.IsThenable(lost) {
		return
	}
	go func() {
		v, err := webjs.Await(lost)
		msg := "device lost"
		if err == nil {
			reason, _ := webjs.StringProp(v, "reason")
			m, _ := webjs.StringProp(v, "message")
			msg = fmt.Sprintf("device lost (%s): %s", reason, m)
		}
		d.lost <- msg
	}()
}

// Lost returns the loss message once the device is lost, "" before.
func (d *Device) Lost() string {
	select {
	case m := <-d.lost:
		d.lost <- m
		return m
	default:
		return ""
	}
}

// HasFeature reports whether the device has feature name enabled.
func (d *Device) HasFeature(name string) bool { return d.Info.HasFeature(name) }

// Value returns the underlying GPUDevice, for code that goes beyond this
// package.
func (d *Device) Value() safejs.Value { return d.device }

// Destroy releases the device and all its resources.
func (d *Device) Destroy() {
	_, _ = d.device.Call("destroy")
}

func readAdapterInfo(adapter safejs.Value) (AdapterInfo, error) {
	var ai AdapterInfo
	info, err := adapter.Get("info")
	if err != nil {
		return ai, err
	}
	if info.Type() == safejs.TypeObject {
		ai.Vendor, _ = webjs.StringProp(info, "vendor")
		ai.Architecture, _ = webjs.StringProp(info, "architecture")
		ai.Device, _ = webjs.StringProp(info, "device")
		ai.Description, _ = webjs.StringProp(info, "description")
		ai.SubgroupMinSize = intProp(info, "subgroupMinSize")
		ai.SubgroupMaxSize = intProp(info, "subgroupMaxSize")
	}
	// isFallbackAdapter moved from GPUAdapter to GPUAdapterInfo; read both.
	for _, v := range []safejs.Value{info, adapter} {
		if v.Type() != safejs.TypeObject {
			continue
		}
		if f, err := v.Get("isFallbackAdapter"); err == nil && f.Type() == safejs.TypeBoolean {
			ai.IsFallbackAdapter, _ = f.Bool()
			break
		}
	}
	return ai, nil
}

func intProp(v safejs.Value, name string) int {
	p, err := v.Get(name)
	if err != nil || p.Type() != safejs.TypeNumber {
		return 0
	}
	n, _ := p.Int()
	return n
}

// readFeatures lists obj.features (a setlike) as strings.
func readFeatures(obj safejs.Value) ([]string, error) {
	return readSet(obj, "features")
}

// readLanguageFeatures lists navigator.gpu.wgslLanguageFeatures (none where
// the implementation predates it).
func readLanguageFeatures(gpu safejs.Value) []string {
	if v, err := gpu.Get("wgslLanguageFeatures"); err != nil || v.Type() != safejs.TypeObject {
		return nil
	}
	out, err := readSet(gpu, "wgslLanguageFeatures")
	if err != nil {
		return nil
	}
	return out
}

// readSet lists the strings of the setlike obj[name].
func readSet(obj safejs.Value, name string) ([]string, error) {
	set, err := obj.Get(name)
	if err != nil {
		return nil, err
	}
	array, err := safejs.Global().Get("Array")
	if err != nil {
		return nil, err
	}
	list, err := array.Call("from", set)
	if err != nil {
		return nil, fmt.Errorf("gpu: reading features: %w", err)
	}
	n, err := list.Length()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		v, err := list.Index(i)
		if err != nil {
			return nil, err
		}
		s, err := v.String()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sortStrings(out)
	return out, nil
}

// readLimits reads the known limits of obj.limits (their getters are on the
// prototype, so they are read by name).
func readLimits(obj safejs.Value) (map[string]uint64, error) {
	limits, err := obj.Get("limits")
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, name := range LimitNames {
		v, err := limits.Get(name)
		if err != nil || v.Type() != safejs.TypeNumber {
			continue
		}
		f, err := v.Float()
		if err != nil {
			return nil, err
		}
		out[name] = uint64(f)
	}
	return out, nil
}
