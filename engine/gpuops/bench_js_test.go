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

// TestBenchKernels times the main kernels at model sizes on the real GPU
// (DOPPLER_GPUOPS_BENCH=1; skipped otherwise, as lavapipe is far too slow).
func TestBenchKernels(t *testing.T) {
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
		r := rand.New(rand.NewPCG(1, 2))
		bufs := newBuffers(t, c)
		timeIt := func(label string, iters int, ds ...*Dispatch) float64 {
			run(t, c, ds...) // warm-up (pipeline compile)
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
		}
		randBytes := func(n int) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.UintN(256))
			}
			// Keep f16/bf16 scales finite: clear the top exponent bits of every other byte.
			for i := 1; i < n; i += 2 {
				b[i] &= 0x3b
			}
			return b
		}
		for _, tc := range []struct {
			typ           dtype.DType
			rows, in, out int
		}{
			{dtype.Q4_K, 1, 4096, 14336}, {dtype.Q8_0, 1, 4096, 14336}, {dtype.F16, 1, 4096, 8192}, {dtype.Q6_K, 1, 2048, 65536},
			// Prefill (the tiled kernel): an up/gate-shaped and a down-shaped projection.
			{dtype.Q4_K, 512, 2048, 8192}, {dtype.Q8_0, 512, 2048, 8192}, {dtype.F16, 512, 2048, 8192},
			{dtype.Q4_K, 512, 8192, 2048}, {dtype.Q8_0, 512, 8192, 2048}, {dtype.F16, 512, 8192, 2048},
		} {
			m, err := NewMatMul(testCtx(t), c, tc.typ)
			require.NoError(t, err)
			w := NewWeight(tc.typ, tc.in, tc.out, bufs.raw(randBytes(int(NewWeight(tc.typ, tc.in, tc.out, nil).RowBytes())*tc.out)))
			x := bufs.act(randFloats(r, tc.rows*tc.in, 1))
			y := bufs.actOut(tc.rows * tc.out)
			disp, err := m.Prepare(w, x.Binding(), y.Binding(), tc.rows)
			require.NoError(t, err)
			iters := 20
			if tc.rows >= TiledMinRows {
				iters = 100 // a prefill launch is short next to clock ramp-up and submit jitter
			}
			sec := timeIt("matmul", iters, disp)
			bytes := float64(w.RowBytes()) * float64(tc.out)
			t.Logf("%v matmul %v %dx%dx%d: %.3f ms, %.0f GB/s weights, %.2f TFLOP/s", prec, tc.typ, tc.rows, tc.in, tc.out,
				sec*1e3, bytes/sec/1e9, 2*float64(tc.rows*tc.in)*float64(tc.out)/sec/1e12)
			disp.Release()
		}
		at, err := NewAttention(testCtx(t), c)
		require.NoError(t, err)
		for _, tc := range []struct{ T, pos, heads, kv, hd, cache int }{{1, 4095, 32, 8, 128, 4096}, {1, 1000, 8, 1, 256, 4096}, {512, 0, 32, 8, 64, 1024}} {
			rows := tc.T
			q := bufs.act(randFloats(r, rows*tc.heads*tc.hd, 1))
			k := bufs.act(randFloats(r, rows*tc.kv*tc.hd, 1))
			v := bufs.act(randFloats(r, rows*tc.kv*tc.hd, 1))
			kc := bufs.act(randFloats(r, tc.cache*tc.kv*tc.hd, 1))
			vc := bufs.act(randFloats(r, tc.cache*tc.kv*tc.hd, 1))
			step := make([]int32, rows+1)
			for i := 0; i < rows; i++ {
				step[i] = int32(tc.pos + i)
			}
			out := bufs.actOut(rows * tc.heads * tc.hd)
			disp, err := at.Prepare(q.Binding(), k.Binding(), v.Binding(), kc.Binding(), vc.Binding(), bufs.raw(i32Bytes(step)).Binding(), out.Binding(),
				AttnShape{B: 1, T: tc.T, Heads: tc.heads, KVHeads: tc.kv, HeadDim: tc.hd, CacheLen: tc.cache, SlotOff: rows, Scale: 0.1})
			require.NoError(t, err)
			sec := timeIt("attention", 20, disp)
			t.Logf("%v attention T=%d pos=%d heads %d/%d hd %d: %.3f ms (%d launches)", prec, tc.T, tc.pos, tc.heads, tc.kv, tc.hd, sec*1e3, disp.Dispatches())
			disp.Release()
		}
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
	}
}
