//go:build js && wasm

package runtime

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/quant"
)

// Fault is a test hook that breaks one op on purpose: the RMSNorm of Layer
// (Op "rmsnorm") multiplies by 1 + w instead of w, a wrong norm offset.
type Fault struct {
	Op    string
	Layer int
}

// BackendOptions configure a Backend.
type BackendOptions struct {
	Precision gpuops.Precision
	// MaxChunk is the most rows per sequence one step may hold; sliding-window
	// layers keep ring caches of Window + MaxChunk - 1 positions. 0 =
	// DefaultMaxChunk.
	MaxChunk int
	Fault    *Fault
	// Profile times every graph replay with GPU timestamps when the device
	// has timestamp-query (see replayProfile).
	Profile bool
}

// DefaultMaxChunk is the prompt rows per step unless set (llama.cpp's
// default micro-batch too). On the H200 a 512-token prompt in one step of
// 512 prefilled 1.36–1.65× faster than in two of 256 (same run): a chunk
// of 256 rows leaves the tiled matmul too few tiles to fill the GPU.
const DefaultMaxChunk = 512

// Backend is arch.Backend on WebGPU. Ops do not run when called: they
// append prepared dispatches to the current recording (see doc.go), which
// Read submits (eager use) or a graph keeps for replay. Eager use keeps
// every op's output buffer for the backend's life: it is meant for verify
// and tests; Session's recorded graphs are the runtime's path.
type Backend struct {
	dev  *gpu.Device
	ops  *gpuops.Context
	prec gpuops.Precision
	act  string // activation dtype name: "f32" or "f16"
	opts BackendOptions
	ctx  context.Context
	pool *Pool

	embed  map[dtype.DType]*gpuops.Embed
	matmul map[dtype.DType]*gpuops.MatMul
	mm2    map[dtype.DType]*gpuops.MatMul2
	qkv    *gpuops.MatMulQKV
	norm   *gpuops.RMSNorm
	rope   *gpuops.Rope
	attn   *gpuops.Attention
	elt    *gpuops.Eltwise
	argmax *gpuops.Argmax
	moe    *gpuops.MoE

	rec   *recording
	layer int // block of the ops being recorded (from weight names)

	weightBytes uint64
	weights     []*gpu.Buffer     // weights and constants, freed by Model.Close
	weightSizes map[string]uint64 // bytes per weight name
	weightRows  map[string]int    // rows (outer dimension) per weight name
	// moeBytes is, per MoE layer (by its gate weight's name), the weight
	// bytes one token reads: the router and Used of the experts.
	moeBytes map[string]uint64
	gpuBytes uint64 // weights, caches and step buffers held
	jsCalls  int    // Go→JS calls made on the replay path
}

var _ arch.Backend = (*Backend)(nil)

// NewBackend prepares ops on dev. Kernels compile on first use, long after
// the request that loaded the model may have been cancelled: the backend
// keeps ctx's values but not its cancellation.
func NewBackend(ctx context.Context, dev *gpu.Device, o BackendOptions) (*Backend, error) {
	ctx = context.WithoutCancel(ctx)
	oc, err := opsContext(dev, o.Precision)
	if err != nil {
		return nil, err
	}
	if o.MaxChunk <= 0 {
		o.MaxChunk = DefaultMaxChunk
	}
	b := &Backend{dev: dev, ops: oc, prec: o.Precision, act: o.Precision.String(), opts: o, ctx: ctx,
		pool: NewPool(dev, 64<<20), embed: map[dtype.DType]*gpuops.Embed{}, matmul: map[dtype.DType]*gpuops.MatMul{}, mm2: map[dtype.DType]*gpuops.MatMul2{}, layer: -1,
		weightSizes: map[string]uint64{}, weightRows: map[string]int{}, moeBytes: map[string]uint64{}}
	b.rec = newRecording(b, nil)
	return b, nil
}

var (
	opsMu       sync.Mutex
	opsContexts = map[opsKey]*gpuops.Context{}
)

type opsKey struct {
	dev  *gpu.Device
	prec gpuops.Precision
}

// opsContext shares one gpuops.Context (and so its compiled pipelines) per
// device and precision: reloading a model, or loading several, compiles
// nothing again.
func opsContext(dev *gpu.Device, prec gpuops.Precision) (*gpuops.Context, error) {
	opsMu.Lock()
	defer opsMu.Unlock()
	if c, ok := opsContexts[opsKey{dev, prec}]; ok {
		return c, nil
	}
	c, err := gpuops.NewContext(dev, prec)
	if err != nil {
		return nil, err
	}
	opsContexts[opsKey{dev, prec}] = c
	return c, nil
}

// forgetDevice drops the contexts of a device about to be destroyed.
func forgetDevice(dev *gpu.Device) {
	opsMu.Lock()
	defer opsMu.Unlock()
	for k := range opsContexts {
		if k.dev == dev {
			delete(opsContexts, k)
		}
	}
}

// Device is the backend's GPU device.
func (b *Backend) Device() *gpu.Device { return b.dev }

// Precision is the activation precision.
func (b *Backend) Precision() gpuops.Precision { return b.prec }

// Pool is the backend's buffer pool.
func (b *Backend) Pool() *Pool { return b.pool }

func (b *Backend) fail(err error) { panic(err) }

// Weight uploads a stored tensor. Vectors (norm weights) become f32, which
// the norm kernels read; matrices stay packed in their dtype.
func (b *Backend) Weight(info model.TensorInfo, raw []byte) (arch.Tensor, error) {
	shape := make([]int, len(info.Shape))
	for i, d := range info.Shape {
		shape[i] = int(d)
	}
	n := numel(shape)
	t := &Tensor{shape: shape, name: info.Name}
	usage := gpu.UsageStorage | gpu.UsageCopySrc
	switch {
	case len(shape) == 1:
		if info.DType != dtype.F32 {
			f, err := quant.ToFloat32(info.DType, raw, n)
			if err != nil {
				return nil, err
			}
			raw = f32Bytes(f)
		}
		t.dt = "f32"
	default:
		if !gpuops.WeightSupported(info.DType) {
			return nil, fmt.Errorf("%s: %v weights have no WebGPU kernel (convert the model, e.g. --dtype q8_0)", info.Name, info.DType)
		}
		t.dt = dtypeName(info.DType)
	}
	if max := b.dev.Info.Limit("maxBufferSize"); max > 0 && uint64(len(raw)) > max {
		return nil, fmt.Errorf("%s: %d bytes exceed the GPU's largest buffer (%d bytes): the model is too big for this GPU", info.Name, len(raw), max)
	}
	buf, err := b.dev.CreateBufferFrom(info.Name, raw, usage)
	if err != nil {
		return nil, err
	}
	t.buf = buf
	b.weights = append(b.weights, buf)
	switch len(shape) {
	case 2:
		w := gpuops.NewWeight(info.DType, shape[0], shape[1], buf)
		t.w = &w
	case 3:
		// Packed experts {in, out, n_expert}: one matrix of n_expert·out
		// rows, each expert's rows in turn (what gpuops.MoE reads).
		w := gpuops.NewWeight(info.DType, shape[0], shape[1]*shape[2], buf)
		t.w = &w
	}
	b.weightBytes += uint64(len(raw))
	b.weightSizes[info.Name] = uint64(len(raw))
	b.weightRows[info.Name] = max(1, n/shape[0])
	b.gpuBytes += uint64(len(raw))
	return t, nil
}

// dtypeName is a dtype as plans print it ("q4_k", "f32").
func dtypeName(t dtype.DType) string { return strings.ToLower(t.String()) }

func f32Bytes(f []float32) []byte {
	out := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
	}
	return out
}

func i32Bytes(v []int32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(x))
	}
	return out
}

// Floats uploads f32 constants (kept on the host too: RoPE takes them as
// parameters).
func (b *Backend) Floats(data []float32, shape ...int) arch.Tensor {
	if numel(shape) != len(data) {
		b.fail(fmt.Errorf("runtime: %d values do not fill shape %v", len(data), shape))
	}
	buf, err := b.dev.CreateBufferFrom("floats", f32Bytes(data), gpu.UsageStorage|gpu.UsageCopySrc)
	if err != nil {
		b.fail(err)
	}
	b.weights = append(b.weights, buf)
	return &Tensor{shape: slices.Clone(shape), dt: "f32", buf: buf, name: "constant", host: slices.Clone(data)}
}

// Ints uploads int32 inputs. The runtime's own steps do not use it: their
// batches point into the step buffer (see graph_js.go). For eager use
// (arch.Runner on this backend, verify) the ints of one step share one
// buffer, as attention reads positions and slots through one binding; the
// buffer is rewritten after the step ran (queue writes follow earlier
// submissions, so the step's reads see its own values).
func (b *Backend) Ints(data []int32, shape ...int) arch.Tensor {
	if numel(shape) != len(data) {
		b.fail(fmt.Errorf("runtime: %d values do not fill shape %v", len(data), shape))
	}
	r := b.rec
	if r.arena != nil || len(data) > eagerInts {
		buf, err := b.dev.CreateBufferFrom("ints", i32Bytes(data), gpu.UsageStorage|gpu.UsageCopySrc)
		if err != nil {
			b.fail(err)
		}
		r.own(buf)
		return &Tensor{shape: slices.Clone(shape), dt: "i32", buf: buf, name: "input ids"}
	}
	if r.ints == nil || r.intsUsed+len(data) > eagerInts {
		buf, err := b.pool.Get("ints", 4*eagerInts, gpu.UsageStorage|gpu.UsageCopySrc|gpu.UsageCopyDst)
		if err != nil {
			b.fail(err)
		}
		r.own(buf)
		r.ints, r.intsUsed = buf, 0
	}
	off := r.intsUsed
	if err := b.dev.WriteBuffer(r.ints, uint64(4*off), i32Bytes(data)); err != nil {
		b.fail(err)
	}
	r.intsUsed += len(data)
	return &Tensor{shape: slices.Clone(shape), dt: "i32", buf: r.ints, off: off, name: "input ids", ver: r.versions[r.ints]}
}

// eagerInts is the size (in int32 values) of an eager recording's shared
// input buffer.
const eagerInts = 1 << 16

// Read submits what was recorded and not yet run, then reads t back as
// float32, bounded by t's shape (never the padded buffer).
func (b *Backend) Read(t arch.Tensor) ([]float32, error) {
	g := gt(t)
	if err := b.rec.flush(); err != nil {
		return nil, err
	}
	return b.readTensor(g)
}

func (b *Backend) readTensor(g *Tensor) ([]float32, error) {
	n := g.numel()
	size := 4
	if g.dt == "f16" {
		size = 2
	} else if g.dt != "f32" && g.dt != "i32" {
		return nil, fmt.Errorf("runtime: reading a packed %s weight is not supported", g.dt)
	}
	raw, err := b.dev.ReadBuffer(b.ctx, g.buf, uint64(g.off*size), uint64(n*size))
	if err != nil {
		return nil, b.checkLost(err)
	}
	out := make([]float32, n)
	for i := range out {
		switch g.dt {
		case "f16":
			out[i] = quant.F16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		case "i32":
			out[i] = float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		default:
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	return out, nil
}

// checkLost turns an error into a device-lost error when the device is gone.
func (b *Backend) checkLost(err error) error {
	if m := b.dev.Lost(); m != "" {
		return &lostError{reason: m}
	}
	return err
}

// kv is one layer's GPU cache, allocated at the first attention that uses
// it (when the layer's window is known): full length, or a ring of
// Window + MaxChunk - 1 positions for sliding-window layers.
type kv struct {
	slots, length, heads, dim int
	cacheLen                  int
	k, v                      *gpu.Buffer
}

func (*Backend) NewKV(slots, length, kvHeads, headDim int) arch.KV {
	return &kv{slots: slots, length: length, heads: kvHeads, dim: headDim}
}

func (c *kv) Slots() int { return c.slots }
func (c *kv) Len() int   { return c.length }

func (b *Backend) kvBuffers(c *kv, window int) error {
	if c.k != nil {
		return nil
	}
	c.cacheLen = c.length
	if window > 0 && window+b.opts.MaxChunk-1 < c.length {
		c.cacheLen = window + b.opts.MaxChunk - 1
	}
	size := uint64(c.slots * c.cacheLen * c.heads * c.dim * b.prec.Bytes())
	var err error
	if c.k, err = b.dev.CreateBuffer("kv k", size, gpu.UsageStorage|gpu.UsageCopySrc); err != nil {
		return err
	}
	if c.v, err = b.dev.CreateBuffer("kv v", size, gpu.UsageStorage|gpu.UsageCopySrc); err != nil {
		return err
	}
	b.gpuBytes += 2 * size
	return nil
}

// releaseKV frees a cache's buffers once the GPU is done with them.
func (b *Backend) releaseKV(c *kv) {
	if c.k != nil {
		b.pool.Defer(c.k.Destroy)
		b.pool.Defer(c.v.Destroy)
		b.gpuBytes -= 2 * c.k.Size
		c.k, c.v = nil, nil
	}
}
