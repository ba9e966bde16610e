//go:build js && wasm

package gpuops

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/quant"
	"github.com/stretchr/testify/require"
)

var (
	devOnce sync.Once
	dev     *gpu.Device
	devErr  error
	ctxMu   sync.Mutex
	ctxs    = map[string]*Context{}
)

// variant is one way of running the kernels: activation precision and
// reduction flavour.
type variant struct {
	prec      Precision
	subgroups bool
}

func (v variant) String() string {
	if v.subgroups {
		return v.prec.String() + "/subgroups"
	}
	return v.prec.String() + "/shared"
}

// variants are the configurations every op is tested in: both precisions,
// and both reduction flavours where the device offers subgroups.
func variants(t *testing.T) []variant {
	d := testDevice(t)
	vs := []variant{{F32, false}}
	if d.HasFeature(gpu.FeatureSubgroups) {
		vs = append(vs, variant{F32, true})
	}
	if d.HasFeature(gpu.FeatureShaderF16) {
		vs = append(vs, variant{F16, false})
		if d.HasFeature(gpu.FeatureSubgroups) {
			vs = append(vs, variant{F16, true})
		}
	} else {
		t.Logf("device without shader-f16: f16 path not tested here")
	}
	return vs
}

func testDevice(t *testing.T) *gpu.Device {
	t.Helper()
	devOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var opts gpu.Options
		if os.Getenv("DOPPLER_GPUOPS_BENCH") != "" { // benches time passes on the GPU where they can
			opts.OptionalFeatures = []string{gpu.FeatureShaderF16, gpu.FeatureSubgroups, gpu.FeatureTimestampQuery}
		}
		dev, devErr = gpu.Open(ctx, opts)
	})
	require.NoError(t, devErr, "run js/wasm tests through build/wasm-exec (Node + Dawn)")
	return dev
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// opsContext returns the shared Context of variant v (pipelines compile once).
func opsContext(t *testing.T, v variant) *Context {
	t.Helper()
	d := testDevice(t)
	ctxMu.Lock()
	defer ctxMu.Unlock()
	if c, ok := ctxs[v.String()]; ok {
		return c
	}
	c, err := NewContext(d, v.prec)
	require.NoError(t, err)
	c.Subgroups = v.subgroups
	ctxs[v.String()] = c
	return c
}

func randFloats(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (r.Float32()*2 - 1) * scale
	}
	return v
}

// roundAct rounds values to what an activation buffer of precision p holds.
func roundAct(p Precision, v []float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		if p == F16 {
			x = quant.F16ToF32(quant.F32ToF16(x))
		}
		out[i] = x
	}
	return out
}

func actBytes(p Precision, v []float32) []byte {
	if p == F16 {
		b := make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], quant.F32ToF16(x))
		}
		return b
	}
	return f32Bytes(v)
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func i32Bytes(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

const bufUsage = gpu.UsageStorage | gpu.UsageCopySrc | gpu.UsageCopyDst

// buffers tracks test buffers for destruction at cleanup.
type buffers struct {
	t    *testing.T
	c    *Context
	list []*gpu.Buffer
}

func newBuffers(t *testing.T, c *Context) *buffers {
	b := &buffers{t: t, c: c}
	t.Cleanup(func() {
		for _, x := range b.list {
			x.Destroy()
		}
	})
	return b
}

func (b *buffers) raw(data []byte) *gpu.Buffer {
	buf, err := b.c.Dev.CreateBufferFrom("test", data, bufUsage)
	require.NoError(b.t, err)
	b.list = append(b.list, buf)
	return buf
}

func (b *buffers) act(v []float32) *gpu.Buffer { return b.raw(actBytes(b.c.Prec, v)) }

func (b *buffers) empty(size uint64) *gpu.Buffer {
	buf, err := b.c.Dev.CreateBuffer("test out", size, bufUsage)
	require.NoError(b.t, err)
	b.list = append(b.list, buf)
	return buf
}

func (b *buffers) actOut(n int) *gpu.Buffer { return b.empty(b.c.ActBytes(n)) }

// run encodes dispatches in one submission inside an error scope.
func run(t *testing.T, c *Context, ds ...*Dispatch) {
	t.Helper()
	ctx := testCtx(t)
	err := c.Dev.Scope(ctx, func() error {
		enc := c.Dev.NewEncoder("test")
		for _, d := range ds {
			d.Encode(enc)
		}
		return enc.Submit()
	})
	require.NoError(t, err)
}

// readAct reads n activations back as float32.
func readAct(t *testing.T, c *Context, buf *gpu.Buffer, n int) []float32 {
	t.Helper()
	raw, err := c.Dev.ReadBuffer(testCtx(t), buf, 0, c.ActBytes(n))
	require.NoError(t, err)
	out := make([]float32, n)
	for i := range out {
		if c.Prec == F16 {
			out[i] = quant.F16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		} else {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	return out
}

func readI32(t *testing.T, c *Context, buf *gpu.Buffer, n int) []int32 {
	t.Helper()
	raw, err := c.Dev.ReadBuffer(testCtx(t), buf, 0, uint64(4*n))
	require.NoError(t, err)
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// requireClose checks |got-want| ≤ tol·(|want| + rms(want)) + 1e-7 (below f16 subnormals):
// relative for large values, scaled by the tensor's magnitude near zero.
func requireClose(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	require.Len(t, got, len(want), name)
	var ss float64
	for _, w := range want {
		ss += float64(w) * float64(w)
	}
	rms := math.Sqrt(ss / float64(max(1, len(want))))
	worst, at := 0.0, -1
	for i := range want {
		diff := math.Abs(float64(got[i]) - float64(want[i]))
		lim := tol*(math.Abs(float64(want[i]))+rms) + 1e-7
		if math.IsNaN(float64(got[i])) || diff > lim {
			require.Failf(t, "mismatch", "%s: [%d] got %v, want %v (|diff| %.3g > %.3g; tolerance %g)", name, i, got[i], want[i], diff, lim, tol)
		}
		if r := diff / (math.Abs(float64(want[i])) + rms + 1e-30); r > worst {
			worst, at = r, i
		}
	}
	t.Logf("%s: %d values, worst relative diff %.3g at %d", name, len(want), worst, at)
}

// tolFor returns the tolerance for precision p: f32 compute vs f16 storage
// (outputs rounded to f16, 2^-11 relative, plus rounding of intermediates).
func tolFor(p Precision, f32tol float64) float64 {
	if p == F16 {
		return math.Max(f32tol, 4e-3)
	}
	return f32tol
}

func name(parts ...any) string { return fmt.Sprint(parts...) }
