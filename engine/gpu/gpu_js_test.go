//go:build js && wasm

package gpu

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doppler-engine/doppler/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/x448/float16"
)

var (
	devOnce sync.Once
	dev     *Device
	devErr  error
)

// testDevice opens one device for the whole test binary.
func testDevice(t *testing.T) (*Device, context.Context) {
	t.Helper()
	devOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dev, devErr = Open(ctx, Options{})
	})
	require.NoError(t, devErr, "run js/wasm tests through build/wasm-exec (Node + Dawn)")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return dev, ctx
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func bytesF32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func u32Bytes(v ...uint32) []byte {
	b := make([]byte, AlignUp(uint64(4*len(v)), 16)) // uniforms: 16-byte multiples
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	return b
}

func randF32(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// binaryKernel holds a kernel of the (params, a, b, out) shape.
type binaryKernel struct {
	pipe   *ComputePipeline
	layout *BindGroupLayout
}

func newBinaryKernel(t *testing.T, d *Device, ctx context.Context, name string) binaryKernel {
	t.Helper()
	layout, err := d.CreateBindGroupLayout(name, Uniform, ReadOnlyStorage, ReadOnlyStorage, Storage)
	require.NoError(t, err)
	pipe, err := d.CreateComputePipeline(ctx, PipelineDesc{Label: name, Code: kernels.MustSource(name), Layouts: []*BindGroupLayout{layout}})
	require.NoError(t, err)
	return binaryKernel{pipe: pipe, layout: layout}
}

// run binds params, a, b, out, dispatches `threads` invocations and reads out.
func (k binaryKernel) run(t *testing.T, d *Device, ctx context.Context, params, a, b []byte, outBytes uint64, threads uint32) []byte {
	t.Helper()
	var got []byte
	err := d.Scope(ctx, func() error {
		pb, err := d.CreateBufferFrom("params", params, UsageUniform)
		require.NoError(t, err)
		ab, err := d.CreateBufferFrom("a", a, UsageStorage)
		require.NoError(t, err)
		bb, err := d.CreateBufferFrom("b", b, UsageStorage)
		require.NoError(t, err)
		ob, err := d.CreateBuffer("out", outBytes, UsageStorage|UsageCopySrc)
		require.NoError(t, err)
		defer func() {
			for _, buf := range []*Buffer{pb, ab, bb, ob} {
				buf.Destroy()
			}
		}()
		g, err := d.CreateBindGroup("g", k.layout, pb.Binding(), ab.Binding(), bb.Binding(), ob.Binding())
		require.NoError(t, err)
		x, y := Grid(threads, 64, uint32(d.Info.Limit("maxComputeWorkgroupsPerDimension")))
		enc := d.NewEncoder(k.pipe.Label)
		enc.Dispatch(k.pipe, []*BindGroup{g}, x, y, 1)
		require.NoError(t, enc.Submit())
		got, err = d.ReadBuffer(ctx, ob, 0, outBytes)
		return err
	})
	require.NoError(t, err)
	return got
}

func TestOpenReportsAdapter(t *testing.T) {
	d, _ := testDevice(t)
	t.Logf("device: %s", d.Info.String())
	assert.NotEmpty(t, d.Info.Adapter.Vendor+d.Info.Adapter.Description+d.Info.Adapter.Architecture)
	assert.NotEmpty(t, d.Info.Features)
	// Open asks for the adapter's limits, above WebGPU's defaults on every
	// backend we run on (lavapipe, SwiftShader, real GPUs).
	assert.Greater(t, d.Info.Limit("maxBufferSize"), uint64(256<<20))
	assert.GreaterOrEqual(t, d.Info.Limit("maxStorageBufferBindingSize"), uint64(128<<20))
	assert.GreaterOrEqual(t, d.Info.Limit("maxComputeWorkgroupStorageSize"), uint64(16<<10))
	assert.GreaterOrEqual(t, d.Info.Limit("maxComputeWorkgroupsPerDimension"), uint64(65535))
	assert.Empty(t, d.Lost())
}

func TestAddKernel(t *testing.T) {
	d, ctx := testDevice(t)
	k := newBinaryKernel(t, d, ctx, "add")
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 63, 64, 1000, 70001} {
		a, b := randF32(r, n), randF32(r, n)
		got := bytesF32(k.run(t, d, ctx, u32Bytes(uint32(n)), f32Bytes(a), f32Bytes(b), uint64(4*n), uint32(n)))
		require.Len(t, got, n)
		for i := range a {
			if got[i] != a[i]+b[i] {
				t.Fatalf("n=%d: out[%d] = %v, want %v", n, i, got[i], a[i]+b[i])
			}
		}
	}
}

func TestAddKernelManyWorkgroups(t *testing.T) {
	// More than 65535 workgroups of 64 in x: Grid spills into y and the
	// kernel's linearized index must cover every element exactly once.
	d, ctx := testDevice(t)
	k := newBinaryKernel(t, d, ctx, "add")
	n := 65535*64 + 1000
	a := make([]float32, n)
	b := make([]float32, n)
	for i := range a {
		a[i] = float32(i)
		b[i] = 0.5
	}
	got := bytesF32(k.run(t, d, ctx, u32Bytes(uint32(n)), f32Bytes(a), f32Bytes(b), uint64(4*n), uint32(n)))
	for i := range got {
		if got[i] != float32(i)+0.5 {
			t.Fatalf("out[%d] = %v, want %v", i, got[i], float32(i)+0.5)
		}
	}
}

func TestMatmulKernel(t *testing.T) {
	d, ctx := testDevice(t)
	k := newBinaryKernel(t, d, ctx, "matmul_f32")
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ m, n, k int }{{1, 1, 1}, {1, 257, 64}, {7, 13, 5}, {33, 65, 129}} {
		a, b := randF32(r, s.m*s.k), randF32(r, s.k*s.n)
		got := bytesF32(k.run(t, d, ctx, u32Bytes(uint32(s.m), uint32(s.n), uint32(s.k)), f32Bytes(a), f32Bytes(b),
			uint64(4*s.m*s.n), uint32(s.m*s.n)))
		for i := 0; i < s.m; i++ {
			for j := 0; j < s.n; j++ {
				var want float64
				for x := 0; x < s.k; x++ {
					want += float64(a[i*s.k+x]) * float64(b[x*s.n+j])
				}
				require.InDelta(t, want, got[i*s.n+j], 1e-5*float64(s.k), "m=%d n=%d k=%d: C[%d][%d]", s.m, s.n, s.k, i, j)
			}
		}
	}
}

func TestF16Kernel(t *testing.T) {
	d, ctx := testDevice(t)
	if !d.HasFeature(FeatureShaderF16) {
		// Lavapipe (the CPU backend build/wasm-exec prefers) offers shader-f16:
		// there a missing feature is a failure, not a skip.
		require.NotContains(t, os.Getenv("VK_ICD_FILENAMES"), "lvp", "lavapipe must offer shader-f16")
		t.Skipf("adapter %q does not offer shader-f16", d.Info.Adapter.Description)
	}
	k := newBinaryKernel(t, d, ctx, "add_f16")
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 3, 129, 1001} {
		pairs := (n + 1) / 2
		a, b := make([]byte, 4*pairs), make([]byte, 4*pairs)
		want := make([]float32, n)
		for i := 0; i < n; i++ {
			x, y := float16.Fromfloat32(r.Float32()*8-4), float16.Fromfloat32(r.Float32()*8-4)
			binary.LittleEndian.PutUint16(a[2*i:], x.Bits())
			binary.LittleEndian.PutUint16(b[2*i:], y.Bits())
			// The exact sum rounded once to f16, as the GPU's f16 add does.
			want[i] = float16.Fromfloat32(x.Float32() + y.Float32()).Float32()
		}
		out := k.run(t, d, ctx, u32Bytes(uint32(n)), a, b, uint64(4*pairs), uint32(pairs))
		for i := 0; i < n; i++ {
			got := float16.Frombits(binary.LittleEndian.Uint16(out[2*i:])).Float32()
			require.Equal(t, want[i], got, "n=%d: out[%d]", n, i)
		}
	}
}

func TestCompileErrorNamesLine(t *testing.T) {
	d, ctx := testDevice(t)
	layout, err := d.CreateBindGroupLayout("bad", Storage)
	require.NoError(t, err)
	code := "@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n" +
		"@compute @workgroup_size(1) fn main() {\n  o[0] = undefined_name;\n}\n"
	_, err = d.CreateComputePipeline(ctx, PipelineDesc{Label: "bad", Code: code, Layouts: []*BindGroupLayout{layout}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "3:")
	assert.Contains(t, err.Error(), "undefined_name")
}

func TestScopeReportsValidationError(t *testing.T) {
	d, ctx := testDevice(t)
	layout, err := d.CreateBindGroupLayout("storage", Storage)
	require.NoError(t, err)
	err = d.Scope(ctx, func() error {
		// A MAP_READ buffer cannot be bound as storage.
		b, err := d.CreateBuffer("wrong usage", 16, UsageMapRead|UsageCopyDst)
		if err != nil {
			return err
		}
		defer b.Destroy()
		_, err = d.CreateBindGroup("invalid", layout, b.Binding())
		return err
	})
	var gerr *Error
	require.ErrorAs(t, err, &gerr)
	assert.Equal(t, "validation", gerr.Filter)
	assert.NotEmpty(t, gerr.Message)

	// The device stays usable, and a clean scope reports nothing.
	require.NoError(t, d.Scope(ctx, func() error {
		b, err := d.CreateBuffer("fine", 16, UsageStorage)
		if err == nil {
			b.Destroy()
		}
		return err
	}))
}

func TestReadBufferRange(t *testing.T) {
	d, ctx := testDevice(t)
	data := []byte("0123456789abcdefXYZ") // 19 bytes: padded to 20 on the GPU
	b, err := d.CreateBufferFrom("bytes", data, UsageStorage|UsageCopySrc)
	require.NoError(t, err)
	defer b.Destroy()
	got, err := d.ReadBuffer(ctx, b, 0, b.Size)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	got, err = d.ReadBuffer(ctx, b, 4, 6)
	require.NoError(t, err)
	assert.Equal(t, []byte("456789"), got)
	_, err = d.ReadBuffer(ctx, b, 16, 8)
	require.ErrorContains(t, err, "exceeds size")
	require.NoError(t, d.Done(ctx))
}

func TestStandaloneKernelsCompile(t *testing.T) {
	// The kernels these tests use compile on this device as they are (f16
	// ones when offered). Kernels assembled by the runtime are checked there.
	d, ctx := testDevice(t)
	for _, name := range []string{"add", "add_f16", "matmul_f32"} {
		if strings.HasSuffix(name, "_f16") && !d.HasFeature(FeatureShaderF16) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			err := d.Scope(ctx, func() error {
				m, err := d.device.Call("createShaderModule", map[string]any{"code": kernels.MustSource(name)})
				if err != nil {
					return err
				}
				return compileErrors(ctx, m)
			})
			require.NoError(t, err)
		})
	}
}

// TestPassTimer times a pass on the GPU where the adapter offers
// timestamp-query, and refuses on a device opened without it.
func TestPassTimer(t *testing.T) {
	plain, ctx := testDevice(t)
	if !plain.HasFeature(FeatureTimestampQuery) {
		_, err := plain.NewPassTimer()
		require.ErrorContains(t, err, FeatureTimestampQuery)
	}
	d, err := Open(ctx, Options{OptionalFeatures: []string{FeatureTimestampQuery}})
	require.NoError(t, err)
	if !d.HasFeature(FeatureTimestampQuery) {
		t.Skipf("the adapter (%s) offers no %s", d.Info.Adapter.Description, FeatureTimestampQuery)
	}
	timer, err := d.NewPassTimer()
	require.NoError(t, err)
	defer timer.Destroy()
	k := newBinaryKernel(t, d, ctx, "add")
	const n = 1 << 22 // long enough for Dawn's 100 µs timestamp rounding
	ab, err := d.CreateBuffer("a", 4*n, UsageStorage)
	require.NoError(t, err)
	defer ab.Destroy()
	ob, err := d.CreateBuffer("out", 4*n, UsageStorage)
	require.NoError(t, err)
	defer ob.Destroy()
	pb, err := d.CreateBufferFrom("params", u32Bytes(n), UsageUniform)
	require.NoError(t, err)
	defer pb.Destroy()
	g, err := d.CreateBindGroup("g", k.layout, pb.Binding(), ab.Binding(), ab.Binding(), ob.Binding())
	require.NoError(t, err)
	x, y := Grid(n, 64, uint32(d.Info.Limit("maxComputeWorkgroupsPerDimension")))
	enc := d.NewEncoder("timed")
	enc.TimePass(timer)
	for range 4 {
		enc.Dispatch(k.pipe, []*BindGroup{g}, x, y, 1)
	}
	require.NoError(t, enc.Submit())
	elapsed, err := timer.Elapsed(ctx, d)
	require.NoError(t, err)
	t.Logf("4 adds of %d floats: %v on the GPU", n, elapsed)
	assert.Greater(t, elapsed, time.Duration(0))
	assert.Less(t, elapsed, time.Minute)
}
