//go:build js && wasm

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/kernels"
	"github.com/hack-pad/safejs"
)

const featureTimestampQuery = gpu.FeatureTimestampQuery

// measureRoofline runs the read-bandwidth probe (see cmd_roofline.go).
func measureRoofline(f *rooflineFlags) (*rooflineReport, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dev, err := gpu.Open(ctx, gpu.Options{OptionalFeatures: []string{featureTimestampQuery}})
	if err != nil {
		return nil, err
	}
	defer dev.Destroy()
	p, err := newRooflineProbe(ctx, dev, f)
	if err != nil {
		return nil, err
	}
	defer p.destroy()
	return p.run(ctx, f)
}

// rooflineProbe holds the buffer, its bindings and the two pipelines.
type rooflineProbe struct {
	dev        *gpu.Device
	buf, total *gpu.Buffer
	params     []*gpu.Buffer
	read, fill *gpu.ComputePipeline
	readGroups []*gpu.BindGroup
	fillGroups []*gpu.BindGroup
	size       uint64
	workgroups uint32   // for the fill and the checksum pass
	candidates []uint32 // dispatch sizes timed
}

func newRooflineProbe(ctx context.Context, dev *gpu.Device, f *rooflineFlags) (*rooflineProbe, error) {
	lim := dev.Info.Limits
	maxBinding := lim["maxStorageBufferBindingSize"]
	if f.bindingSize != 0 {
		maxBinding = min(maxBinding, f.bindingSize)
	}
	align := max(lim["minStorageBufferOffsetAlignment"], 16)
	size, binding := rooflineLayout(min(f.size, lim["maxBufferSize"]), maxBinding, align)
	if binding == 0 {
		return nil, fmt.Errorf("the device allows no storage binding large enough for the probe")
	}
	p := &rooflineProbe{dev: dev, size: size}
	maxPerDim := uint32(max(lim["maxComputeWorkgroupsPerDimension"], 1))
	p.workgroups = rooflineWorkgroups(binding/16, maxPerDim)
	p.candidates = rooflineCandidates(p.workgroups, maxPerDim)
	if f.workgroups != 0 {
		p.workgroups = uint32(min(f.workgroups, uint(maxPerDim)))
		p.candidates = []uint32{p.workgroups}
	}
	err := dev.Scope(ctx, func() error {
		var err error
		if p.buf, err = dev.CreateBuffer("roofline data", size, gpu.UsageStorage); err != nil {
			return err
		}
		if p.total, err = dev.CreateBuffer("roofline total", 4, gpu.UsageStorage|gpu.UsageCopySrc|gpu.UsageCopyDst); err != nil {
			return err
		}
		readLayout, err := dev.CreateBindGroupLayout("roofline read", gpu.ReadOnlyStorage, gpu.Storage)
		if err != nil {
			return err
		}
		fillLayout, err := dev.CreateBindGroupLayout("roofline fill", gpu.Storage, gpu.Uniform)
		if err != nil {
			return err
		}
		if p.read, err = dev.CreateComputePipeline(ctx, gpu.PipelineDesc{Label: "roofline read",
			Code: kernels.MustSource("roofline_read"), Layouts: []*gpu.BindGroupLayout{readLayout}}); err != nil {
			return err
		}
		if p.fill, err = dev.CreateComputePipeline(ctx, gpu.PipelineDesc{Label: "roofline fill",
			Code: kernels.MustSource("roofline_fill"), Layouts: []*gpu.BindGroupLayout{fillLayout}}); err != nil {
			return err
		}
		for off := uint64(0); off < size; off += binding {
			n := min(binding, size-off)
			var base [16]byte
			binary.LittleEndian.PutUint32(base[:], uint32(off/4))
			params, err := dev.CreateBufferFrom("roofline fill params", base[:], gpu.UsageUniform)
			if err != nil {
				return err
			}
			p.params = append(p.params, params)
			rg, err := dev.CreateBindGroup("roofline read", readLayout,
				gpu.Binding{Buffer: p.buf, Offset: off, Size: n}, p.total.Binding())
			if err != nil {
				return err
			}
			fg, err := dev.CreateBindGroup("roofline fill", fillLayout,
				gpu.Binding{Buffer: p.buf, Offset: off, Size: n}, params.Binding())
			if err != nil {
				return err
			}
			p.readGroups = append(p.readGroups, rg)
			p.fillGroups = append(p.fillGroups, fg)
		}
		enc := dev.NewEncoder("roofline fill")
		for _, g := range p.fillGroups {
			enc.Dispatch(p.fill, []*gpu.BindGroup{g}, p.workgroups, 1, 1)
		}
		return enc.Submit()
	})
	if err != nil {
		p.destroy()
		return nil, fmt.Errorf("setting up a %d-byte read probe: %w", size, err)
	}
	return p, nil
}

func (p *rooflineProbe) destroy() {
	for _, b := range append([]*gpu.Buffer{p.buf, p.total}, p.params...) {
		if b != nil {
			b.Destroy()
		}
	}
}

func (p *rooflineProbe) run(ctx context.Context, f *rooflineFlags) (*rooflineReport, error) {
	r := &rooflineReport{
		Device:      p.dev.Info.Adapter.Description,
		BufferBytes: p.size,
		Bindings:    len(p.readGroups),
		Iterations:  f.iters,
		Reps:        f.reps,
		Timing:      "wall",
	}
	if r.Device == "" {
		r.Device = p.dev.Info.Adapter.Vendor + " " + p.dev.Info.Adapter.Architecture
	}
	// One pass over a zeroed total: the checksum of what the kernel read.
	if err := p.dev.WriteBuffer(p.total, 0, make([]byte, 4)); err != nil {
		return nil, err
	}
	if _, err := p.submit(p.workgroups, 1, false); err != nil {
		return nil, err
	}
	got, err := p.dev.ReadBuffer(ctx, p.total, 0, 4)
	if err != nil {
		return nil, err
	}
	r.Checksum = binary.LittleEndian.Uint32(got)
	r.WantChecksum = rooflineChecksum(p.size / 4)
	r.ChecksumOK = r.Checksum == r.WantChecksum

	// Each dispatch size (the chosen one, or a few around the automatic
	// pick) is warmed up and timed; the fastest counts.
	timestamps := p.dev.HasFeature(featureTimestampQuery)
	for _, wg := range p.candidates {
		ts, wall, err := p.measure(ctx, wg, f, timestamps)
		if err != nil {
			return nil, err
		}
		r.Sweep = append(r.Sweep, rooflinePoint{Workgroups: wg, TimestampGBs: ts, WallGBs: wall})
		best := max(ts, wall*boolFloat(ts == 0))
		if best > r.GBs {
			r.GBs, r.Workgroups = best, wg
		}
		r.WallGBs = max(r.WallGBs, wall)
		r.TimestampGBs = max(r.TimestampGBs, ts)
	}
	if r.TimestampGBs > 0 {
		r.Timing = "timestamp"
	}
	return r, nil
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// measure warms up with wg workgroups per dispatch, then times f.reps
// submissions of f.iters passes; it returns the best GB/s by GPU timestamps
// (0 without them) and by wall clock (submit to done).
func (p *rooflineProbe) measure(ctx context.Context, wg uint32, f *rooflineFlags, timestamps bool) (ts, wall float64, err error) {
	if _, err := p.submit(wg, f.iters, false); err != nil {
		return 0, 0, err
	}
	if err := p.dev.Done(ctx); err != nil {
		return 0, 0, err
	}
	bytes := float64(p.size) * float64(f.iters)
	for range f.reps {
		start := time.Now()
		q, err := p.submit(wg, f.iters, timestamps)
		if err != nil {
			return 0, 0, err
		}
		if err := p.dev.Done(ctx); err != nil {
			return 0, 0, err
		}
		wall = max(wall, bytes/time.Since(start).Seconds()/1e9)
		if q != nil {
			ns, err := p.readTimestamps(ctx, q)
			if err != nil {
				return 0, 0, err
			}
			if ns > 0 {
				ts = max(ts, bytes/ns)
			}
		}
	}
	return ts, wall, nil
}

// timestampQuery is the begin/end timestamp pair of one submitted pass.
type timestampQuery struct {
	set     safejs.Value
	resolve *gpu.Buffer
}

// submit records iters read passes over every binding in one compute pass
// and submits them. With timestamps, the pass writes its begin and end times
// into a query set resolved into a buffer that readTimestamps reads.
func (p *rooflineProbe) submit(wg uint32, iters int, timestamps bool) (*timestampQuery, error) {
	dev := p.dev.Value()
	enc, err := dev.Call("createCommandEncoder", map[string]any{"label": "roofline"})
	if err != nil {
		return nil, err
	}
	desc := map[string]any{"label": "roofline read"}
	var q *timestampQuery
	if timestamps {
		set, err := dev.Call("createQuerySet", map[string]any{"type": "timestamp", "count": 2})
		if err != nil {
			return nil, fmt.Errorf("createQuerySet: %w", err)
		}
		resolve, err := p.dev.CreateBuffer("roofline timestamps", 16, gpu.UsageQueryResolve|gpu.UsageCopySrc)
		if err != nil {
			return nil, err
		}
		q = &timestampQuery{set: set, resolve: resolve}
		desc["timestampWrites"] = map[string]any{"querySet": set, "beginningOfPassWriteIndex": 0, "endOfPassWriteIndex": 1}
	}
	pass, err := enc.Call("beginComputePass", desc)
	if err != nil {
		return nil, err
	}
	if _, err := pass.Call("setPipeline", p.read.Value()); err != nil {
		return nil, err
	}
	for range iters {
		for _, g := range p.readGroups {
			if _, err := pass.Call("setBindGroup", 0, g.Value()); err != nil {
				return nil, err
			}
			if _, err := pass.Call("dispatchWorkgroups", wg, 1, 1); err != nil {
				return nil, err
			}
		}
	}
	if _, err := pass.Call("end"); err != nil {
		return nil, err
	}
	if q != nil {
		if _, err := enc.Call("resolveQuerySet", q.set, 0, 2, q.resolve.Value(), 0); err != nil {
			return nil, fmt.Errorf("resolveQuerySet: %w", err)
		}
	}
	cb, err := enc.Call("finish")
	if err != nil {
		return nil, err
	}
	if _, err := p.dev.Queue().Call("submit", []any{cb}); err != nil {
		return nil, err
	}
	return q, nil
}

// readTimestamps waits for q's pass and returns its GPU time in
// nanoseconds (0 when the timer gave nothing usable).
func (p *rooflineProbe) readTimestamps(ctx context.Context, q *timestampQuery) (float64, error) {
	defer q.resolve.Destroy()
	defer q.set.Call("destroy")
	b, err := p.dev.ReadBuffer(ctx, q.resolve, 0, 16)
	if err != nil {
		return 0, err
	}
	begin, end := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	if end <= begin {
		return 0, nil
	}
	return float64(end - begin), nil
}
