//go:build js && wasm

package gpuops

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/require"
)

// benchTimer times iters encodings of ds in one submission, best of three,
// after a warm-up run (pipeline compiles): seconds per iteration.
type benchTimer func(label string, iters int, ds ...*Dispatch) float64

// forBenchContexts runs f on the real GPU (DOPPLER_GPUOPS_BENCH=1; skipped
// otherwise, as lavapipe is far too slow) for each precision the device
// offers, with a timer on that context.
func forBenchContexts(t *testing.T, f func(prec Precision, c *Context, timeIt benchTimer)) {
	if os.Getenv("DOPPLER_GPUOPS_BENCH") == "" {
		t.Skip("set DOPPLER_GPUOPS_BENCH=1 to time kernels at model sizes")
	}
	d := testDevice(t)
	t.Logf("device: %s", d.Info.String())
	for _, prec := range []Precision{F32, F16} {
		if prec == F16 && !d.HasFeature("shader-f16") {
			continue
		}
		c := opsContext(t, variant{prec, d.HasFeature("subgroups")})
		f(prec, c, func(label string, iters int, ds ...*Dispatch) float64 {
			run(t, c, ds...)
			require.NoError(t, c.Dev.Done(testCtx(t)))
			best := 1e9
			for rep := 0; rep < 3; rep++ {
				start := time.Now()
				enc := c.Dev.NewEncoder("bench")
				for i := 0; i < iters; i++ {
					for _, x := range ds {
						x.Encode(enc)
					}
				}
				require.NoError(t, enc.Submit())
				require.NoError(t, c.Dev.Done(testCtx(t)))
				best = min(best, time.Since(start).Seconds()/float64(iters))
			}
			return best
		})
	}
}

// TestBenchKernels times the main kernels at model sizes on the real GPU.
func TestBenchKernels(t *testing.T) {
	forBenchContexts(t, func(prec Precision, c *Context, timeIt benchTimer) {
		r := rand.New(rand.NewPCG(1, 2))
		bufs := newBuffers(t, c)
		randBytes := func(n int) []byte {
			b := make([]byte, n)
			for i := 0; i < n; i += 8 {
				v := r.Uint64()
				for j := i; j < min(i+8, n); j++ {
					b[j] = byte(v >> (8 * (j - i)))
				}
			}
			// Keep f16/bf16 scales finite: clear the top exponent bits of every other byte.
			for i := 1; i < n; i += 2 {
				b[i] &= 0x3b
			}
			return b
		}
		newWeight := func(typ dtype.DType, in, out int) Weight {
			return NewWeight(typ, in, out, bufs.raw(randBytes(int(NewWeight(typ, in, out, nil).RowBytes())*out)))
		}
		// Decode GEMVs at our models' shapes, timed at every lanes-per-row
		// setting (0: gemvLanes's choice) to tune gemvLanes.
		for _, tc := range []struct {
			typ     dtype.DType
			in, out int
			glu     bool
		}{
			{dtype.Q4_K, 2304, 9216, true}, {dtype.Q4_K, 9216, 2304, false}, {dtype.Q4_K, 2048, 2304, false},
			{dtype.Q4_K, 2304, 256000, false}, {dtype.Q6_K, 9216, 2304, false}, {dtype.Q4_K, 1024, 640, false},
			{dtype.Q8_0, 640, 262144, false}, {dtype.Q8_0, 2048, 640, false}, {dtype.Q8_0, 640, 2048, true},
			{dtype.Q5_0, 1152, 6912, true}, {dtype.F16, 2304, 2048, false}, {dtype.Q4_K, 4096, 14336, false},
		} {
			w := newWeight(tc.typ, tc.in, tc.out)
			var up Weight
			if tc.glu {
				up = newWeight(tc.typ, tc.in, tc.out)
			}
			x := bufs.act(randFloats(r, tc.in, 1))
			y := bufs.actOut(tc.out)
			m, err := NewMatMul(testCtx(t), c, tc.typ)
			require.NoError(t, err)
			m2 := NewMatMul2(c, tc.typ)
			for i, lanes := range []int{0, 16, 32, 64, 128} {
				gemvLanesFixed = lanes
				var disp *Dispatch
				if tc.glu {
					disp, err = m2.PrepareGLU(testCtx(t), w, up, x.Binding(), y.Binding(), 1, GELUTanh)
				} else {
					disp, err = m.Prepare(w, x.Binding(), y.Binding(), 1)
				}
				gemvLanesFixed = 0
				require.NoError(t, err)
				if i == 0 {
					timeIt("gemv", 20, disp) // the first timing after a large upload runs slow
				}
				sec := timeIt("gemv", 20, disp)
				bytes := float64(w.RowBytes()) * float64(tc.out)
				if tc.glu {
					bytes *= 2
				}
				if lanes == 0 {
					lanes = -gemvLanes(tc.in/matmulUnit(tc.typ, tc.in), tc.out)
				}
				t.Logf("%v gemv %v %dx%d glu=%v lanes %d: %.1f µs, %.0f GB/s", prec, tc.typ, tc.in, tc.out, tc.glu, lanes, sec*1e6, bytes/sec/1e9)
				disp.Release()
			}
		}
		for _, tc := range []struct {
			typ           dtype.DType
			rows, in, out int
		}{
			// Prefill (the tiled kernel): an up/gate-shaped and a down-shaped projection.
			{dtype.Q4_K, 512, 2048, 8192}, {dtype.Q8_0, 512, 2048, 8192}, {dtype.F16, 512, 2048, 8192},
			{dtype.Q4_K, 512, 8192, 2048}, {dtype.Q8_0, 512, 8192, 2048}, {dtype.F16, 512, 8192, 2048},
			// Qwen3-0.6B's k projection over a 256-row chunk: few tiles.
			{dtype.Q4_K, 256, 1024, 1024}, {dtype.Q4_K, 512, 1024, 1024},
		} {
			m, err := NewMatMul(testCtx(t), c, tc.typ)
			require.NoError(t, err)
			w := newWeight(tc.typ, tc.in, tc.out)
			x := bufs.act(randFloats(r, tc.rows*tc.in, 1))
			y := bufs.actOut(tc.rows * tc.out)
			disp, err := m.Prepare(w, x.Binding(), y.Binding(), tc.rows)
			require.NoError(t, err)
			sec := timeIt("matmul", 100, disp) // a prefill launch is short next to clock ramp-up and submit jitter
			bytes := float64(w.RowBytes()) * float64(tc.out)
			t.Logf("%v matmul %v %dx%dx%d: %.3f ms, %.0f GB/s weights, %.2f TFLOP/s", prec, tc.typ, tc.rows, tc.in, tc.out,
				sec*1e3, bytes/sec/1e9, 2*float64(tc.rows*tc.in)*float64(tc.out)/sec/1e12)
			disp.Release()
		}
		benchAttention(t, c, bufs, r, timeIt)
		am, err := NewArgmax(testCtx(t), c)
		require.NoError(t, err)
		sm, err := NewSampler(testCtx(t), c)
		require.NoError(t, err)
		const vocab = 262144
		logits := bufs.act(randFloats(r, vocab, 5))
		ids := bufs.raw(i32Bytes(make([]int32, 4)))
		disp, err := am.Prepare(logits.Binding(), ids.Binding(), 0, 1, vocab)
		require.NoError(t, err)
		t.Logf("%v argmax vocab %d: %.3f ms", prec, vocab, timeIt("argmax", 20, disp)*1e3)
		sd, err := sm.Prepare(logits.Binding(), bufs.raw(i32Bytes(NewHistory(64, []int32{1, 2, 3}))).Binding(), ids.Binding(), 0, 1, vocab, 64,
			SampleParams{Temperature: 0.8, TopK: 40, TopP: 0.95, RepeatPenalty: 1.1, Seed: 1})
		require.NoError(t, err)
		t.Logf("%v sample vocab %d: %.3f ms", prec, vocab, timeIt("sample", 20, sd.Dispatch)*1e3)
	})
}
