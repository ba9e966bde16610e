//go:build js && wasm

package runtime

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gpu"
)

const uniformKernel = `
struct U { v: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(1)
fn main() { out[u.a] = u.v; }
`

// Under pressure (no idle bytes kept, 300 uniform buffers, more than a
// device's usual 256-buffer batches) buffers given back while submitted work
// still uses them are neither destroyed nor handed out again until the
// GPU finished that work; the work reads the values they held.
func TestPoolDefersDestruction(t *testing.T) {
	const n = 300
	dev := sharedDevice(t)
	ctx := testCtx(t)
	pool := NewPool(dev, 0)
	layout, err := dev.CreateBindGroupLayout("pool test", gpu.Uniform, gpu.Storage)
	require.NoError(t, err)
	pipe, err := dev.CreateComputePipeline(ctx, gpu.PipelineDesc{Label: "pool test", Code: uniformKernel, Layouts: []*gpu.BindGroupLayout{layout}})
	require.NoError(t, err)
	out, err := dev.CreateBuffer("out", 4*n, gpu.UsageStorage|gpu.UsageCopySrc)
	require.NoError(t, err)
	defer out.Destroy()

	used := map[*gpu.Buffer]bool{}
	enc := dev.NewEncoder("pool test")
	var bufs []*gpu.Buffer
	for i := range n {
		u, err := pool.Get("uniform", 16, gpu.UsageUniform|gpu.UsageCopyDst)
		require.NoError(t, err)
		data := make([]byte, 16)
		binary.LittleEndian.PutUint32(data, uint32(1000+i))
		binary.LittleEndian.PutUint32(data[4:], uint32(i))
		require.NoError(t, dev.WriteBuffer(u, 0, data))
		g, err := dev.CreateBindGroup("pool test", layout, u.Binding(), out.Binding())
		require.NoError(t, err)
		enc.Dispatch(pipe, []*gpu.BindGroup{g}, 1, 1, 1)
		bufs = append(bufs, u)
		used[u] = true
	}
	require.NoError(t, enc.Submit())
	for _, u := range bufs {
		pool.Put(u)
	}
	// Nothing may be destroyed or reused before the GPU reports completion.
	destroyed, pending, _ := pool.Stats()
	assert.Equal(t, 0, destroyed)
	assert.Equal(t, n, pending)
	fresh, err := pool.Get("uniform", 16, gpu.UsageUniform|gpu.UsageCopyDst)
	require.NoError(t, err)
	assert.False(t, used[fresh], "a buffer still in use was handed out again")

	raw, err := dev.ReadBuffer(ctx, out, 0, 4*n)
	require.NoError(t, err)
	for i := range n {
		require.Equal(t, uint32(1000+i), binary.LittleEndian.Uint32(raw[4*i:]), "dispatch %d", i)
	}
	require.NoError(t, pool.Wait(ctx))
	destroyed, pending, _ = pool.Stats()
	assert.Equal(t, n, destroyed, "with no idle bytes allowed, done buffers are destroyed")
	assert.Zero(t, pending)

	// With room to keep them, done buffers are recycled.
	keep := NewPool(dev, 1<<20)
	a, err := keep.Get("a", 16, gpu.UsageUniform)
	require.NoError(t, err)
	keep.Put(a)
	b, err := keep.Get("b", 16, gpu.UsageUniform)
	require.NoError(t, err)
	assert.NotSame(t, a, b, "not reused before completion")
	require.NoError(t, keep.Wait(ctx))
	c, err := keep.Get("c", 16, gpu.UsageUniform)
	require.NoError(t, err)
	assert.Same(t, a, c, "reused after completion")
}
