//go:build js && wasm

package gpuops

import (
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/kernels"
	"github.com/stretchr/testify/require"
)

// TestBenchPrefetch asks how much a decode GEMV gains when its weights were
// read into the L2 just before (by a launch that only reads them), against
// weights beyond the L2: the bound on what warming the next GEMV's weights
// during a latency-bound launch (the attention, a norm) could save.
func TestBenchPrefetch(t *testing.T) {
	forBenchContexts(t, func(prec Precision, c *Context, timeIt benchTimer) {
		r := rand.New(rand.NewPCG(1, 2))
		bufs := newBuffers(t, c)
		newWeight := benchWeights(r, bufs)
		layout, err := c.Dev.CreateBindGroupLayout("touch", gpu.ReadOnlyStorage, gpu.Storage)
		require.NoError(t, err)
		pipe, err := c.Dev.CreateComputePipeline(testCtx(t), gpu.PipelineDesc{Label: "touch",
			Code: kernels.MustSource("roofline_read"), Layouts: []*gpu.BindGroupLayout{layout}})
		require.NoError(t, err)
		total := bufs.empty(16)
		// touch reads the weights in one launch each, over groups workgroups
		// (0: one step of four vec4 loads an invocation).
		touchN := func(groups uint32, ws ...Weight) *Dispatch {
			d := &Dispatch{Label: "touch"}
			for _, w := range ws {
				p := w.Parts[0]
				size := w.RowBytes() * uint64(p.Rows)
				g, err := c.Dev.CreateBindGroup("touch", layout, gpu.Binding{Buffer: p.Buffer, Offset: p.Offset, Size: size}, total.Binding())
				require.NoError(t, err)
				n := groups
				if n == 0 {
					n = uint32(max(1, size/16/256/4))
				}
				x, y := gpu.Grid(n, 1, c.maxPerDim)
				d.Steps = append(d.Steps, Step{Pipeline: pipe, Group: g, X: x, Y: y, Z: 1})
			}
			return d
		}
		touch := func(ws ...Weight) *Dispatch { return touchN(0, ws...) }
		type shape struct {
			typ     dtype.DType
			in, out int
			glu     bool
			name    string
		}
		layer := []shape{
			{dtype.Q4_K, 2304, 4096, false, "q+k+v"}, {dtype.Q4_K, 2048, 2304, false, "o"},
			{dtype.Q4_K, 2304, 9216, true, "gate/up"}, {dtype.Q4_K, 9216, 2304, false, "down"},
		}
		const copies = 6 // 6 layers of 44 MB: beyond a 50 MB L2
		x := bufs.act(randFloats(r, 9216, 1))
		y := bufs.actOut(9216 * 2)
		m2 := NewMatMul2(c, dtype.Q4_K)
		m, err := NewMatMul(testCtx(t), c, dtype.Q4_K)
		require.NoError(t, err)
		gemv := make([][]*Dispatch, copies) // [copy][shape]
		warm := make([][]*Dispatch, copies) // touch of the shape's weights
		var layerW [copies][]Weight
		for i := range gemv {
			for _, s := range layer {
				w := newWeight(s.typ, s.in, s.out)
				ws := []Weight{w}
				var d *Dispatch
				if s.glu {
					up := newWeight(s.typ, s.in, s.out)
					ws = append(ws, up)
					d, err = m2.PrepareGLU(testCtx(t), w, up, x.Binding(), y.Binding(), 1, GELUTanh)
				} else {
					d, err = m.Prepare(w, x.Binding(), y.Binding(), 1)
				}
				require.NoError(t, err)
				gemv[i] = append(gemv[i], d)
				warm[i] = append(warm[i], touch(ws...))
				layerW[i] = append(layerW[i], ws...)
			}
		}
		for j, s := range layer {
			bytes := float64(NewWeight(s.typ, s.in, s.out, nil).RowBytes()) * float64(s.out)
			if s.glu {
				bytes *= 2
			}
			if bytes*copies < 100e6 {
				t.Logf("%s: %d copies of %.1f MB stay in a 50 MB L2: not timed alone", s.name, copies, bytes/1e6)
				continue
			}
			var cold, touched, both []*Dispatch
			for i := 0; i < copies; i++ {
				cold = append(cold, gemv[i][j])
				touched = append(touched, warm[i][j])
				both = append(both, warm[i][j], gemv[i][j])
			}
			tc := timeIt("cold", 4, cold...) / copies
			tt := timeIt("touch", 4, touched...) / copies
			tb := timeIt("touch+gemv", 4, both...) / copies
			t.Logf("%s %v %dx%d (%.1f MB): cold %.1f µs; touch %.1f µs (%.0f GB/s); touch+gemv %.1f µs → warm gemv %.1f µs",
				s.name, s.typ, s.in, s.out, bytes/1e6, tc*1e6, tt*1e6, bytes/tt/1e9, tb*1e6, (tb-tt)*1e6)
		}
		// The gate/up weights read by fewer workgroups, as a latency-bound
		// launch's extra ones would.
		for _, groups := range []uint32{1056, 528, 264, 132} {
			var touched, both []*Dispatch
			for i := 0; i < copies; i++ {
				d := touchN(groups, layerW[i][2], layerW[i][3])
				touched = append(touched, d)
				both = append(both, d, gemv[i][2])
			}
			tt := timeIt("touch", 4, touched...) / copies
			tb := timeIt("touch+gemv", 4, both...) / copies
			t.Logf("gate/up touched by %d workgroups: touch %.1f µs; warm gemv %.1f µs", groups, tt*1e6, (tb-tt)*1e6)
		}
		// A whole layer touched at once, then its GEMVs: does 44 MB stay?
		var cold, touched, both []*Dispatch
		for i := 0; i < copies; i++ {
			d := touch(layerW[i]...)
			touched = append(touched, d)
			both = append(both, d)
			cold = append(cold, gemv[i]...)
			both = append(both, gemv[i]...)
		}
		tc := timeIt("cold", 4, cold...) / copies
		tt := timeIt("touch", 4, touched...) / copies
		tb := timeIt("touch+gemv", 4, both...) / copies
		t.Logf("layer: cold %.1f µs; touch %.1f µs; touch+gemvs %.1f µs → warm gemvs %.1f µs", tc*1e6, tt*1e6, tb*1e6, (tb-tt)*1e6)
	})
}
