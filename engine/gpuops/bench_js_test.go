//go:build js && wasm

package gpuops

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/stretchr/testify/require"
)

// benchTimer times iters encodings of ds in one submission (one compute
// pass), best of three, after a warm-up run (pipeline compiles): seconds per
// iteration, by the pass's GPU timestamps where the device has
// timestamp-query, else by the wall clock from encoding to completion.
type benchTimer func(label string, iters int, ds ...*Dispatch) float64

// forBenchContexts runs f on the real GPU (DOPPLER_GPUOPS_BENCH=1; skipped
// otherwise, as lavapipe is far too slow) for each precision the device
// offers, with a timer on that context.
func forBenchContexts(t *testing.T, f func(prec Precision, c *Context, timeIt benchTimer)) {
	if os.Getenv("DOPPLER_GPUOPS_BENCH") == "" {
		t.Skip("set DOPPLER_GPUOPS_BENCH=1 to time kernels at model sizes")
	}
	d := testDevice(t)
	t.Logf("device: %s (GPU timestamps: %v)", d.Info.String(), d.HasFeature(gpu.FeatureTimestampQuery))
	for _, prec := range []Precision{F32, F16} {
		if prec == F16 && !d.HasFeature("shader-f16") {
			continue
		}
		c := opsContext(t, variant{prec, d.HasFeature("subgroups")})
		f(prec, c, func(label string, iters int, ds ...*Dispatch) float64 {
			run(t, c, ds...)
			require.NoError(t, c.Dev.Done(testCtx(t)))
			var timer *gpu.PassTimer
			if d.HasFeature(gpu.FeatureTimestampQuery) {
				var err error
				timer, err = d.NewPassTimer()
				require.NoError(t, err)
				defer timer.Destroy()
			}
			best := 1e9
			for rep := 0; rep < 3; rep++ {
				start := time.Now()
				enc := c.Dev.NewEncoder("bench")
				if timer != nil {
					enc.TimePass(timer)
				}
				for i := 0; i < iters; i++ {
					for _, x := range ds {
						x.Encode(enc)
					}
				}
				require.NoError(t, enc.Submit())
				require.NoError(t, c.Dev.Done(testCtx(t)))
				sec := time.Since(start).Seconds()
				if timer != nil {
					gpuTime, err := timer.Elapsed(testCtx(t), d)
					require.NoError(t, err)
					sec = gpuTime.Seconds()
				}
				best = min(best, sec/float64(iters))
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
		newWeight := benchWeights(r, bufs)
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
		cfg, err := sm.NewConfig(vocab, 64)
		require.NoError(t, err)
		require.NoError(t, cfg.SetParams(sample.Params{Temperature: 0.8, TopK: 40, TopP: 0.95, RepeatPenalty: 1.1, Seed: 1}))
		// step: [0] the slot (0), the token goes to [1].
		step := bufs.raw(i32Bytes(make([]int32, 2)))
		sd, err := sm.Prepare(cfg, logits.Binding(), bufs.raw(i32Bytes(NewHistory(64, []int32{1, 2, 3}))).Binding(), step.Binding(), 1, 0, 1)
		require.NoError(t, err)
		t.Logf("%v sample vocab %d: %.3f ms", prec, vocab, timeIt("sample", 20, sd)*1e3)
	})
}

// benchWeights makes random weights of a dtype and shape (scales kept finite).
func benchWeights(r *rand.Rand, bufs *buffers) func(typ dtype.DType, in, out int) Weight {
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
	return func(typ dtype.DType, in, out int) Weight {
		return NewWeight(typ, in, out, bufs.raw(randBytes(int(NewWeight(typ, in, out, nil).RowBytes())*out)))
	}
}

// TestBenchGEMV times the decode GEMVs (one activation row) at our models'
// shapes for each lanes-per-row (RS) and lanes-per-unit (WP) setting, to
// tune gemvLanes and gemvParts. Each launch reads its own copy of the
// weights (copies enough to overflow a 50 MB L2, as a model's layers do).
// By GPU timestamps a launch's time is its pass's over the launches; by the
// wall clock it is marginal, (time of 4n launches − time of n) / 3n, so the
// submission's fixed cost drops out (a marginal of two noisy timings read
// far too low once on the H200, so the timestamps' time is taken whole).
func TestBenchGEMV(t *testing.T) {
	forBenchContexts(t, func(prec Precision, c *Context, timeIt benchTimer) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, tc := range []struct {
			typ     dtype.DType
			in, out int
			glu     bool
			model   string
		}{
			{dtype.Q4_K, 2304, 9216, true, "gemma2-2b gate/up"}, {dtype.Q4_K, 9216, 2304, false, "gemma2-2b down"},
			{dtype.Q6_K, 9216, 2304, false, "gemma2-2b down"}, {dtype.Q4_K, 2048, 2304, false, "gemma2-2b o"},
			{dtype.Q4_K, 2304, 4096, false, "gemma2-2b q+k+v"}, {dtype.Q6_K, 2304, 256000, false, "gemma2-2b LM head"},
			{dtype.Q8_0, 2304, 9216, true, "gemma2-2b q8_0 gate/up"}, {dtype.F16, 2304, 9216, true, "gemma2-2b f16 gate/up"},
			{dtype.Q4_K, 1024, 3072, true, "qwen3-0.6b gate/up"}, {dtype.Q5_0, 1152, 6912, true, "gemma3-1b gate/up"},
			{dtype.Q5_0, 640, 2048, true, "gemma3-270m gate/up"}, {dtype.Q8_0, 640, 262144, false, "gemma3-270m LM head"},
			{dtype.Q5_0, 640, 262144, false, "gemma3-270m q4_k_m LM head"}, {dtype.Q5_K, 2304, 9216, true, "Q5_K gate/up"},
			{dtype.Q4_K, 2304, 256000, false, "gemma2-2b q4_k_m LM head"}, {dtype.Q8_0, 640, 1536, false, "gemma3-270m q+k+v"},
			{dtype.Q8_0, 1024, 640, false, "gemma3-270m o"}, {dtype.Q8_0, 2048, 640, false, "gemma3-270m down"},
			{dtype.Q8_0, 640, 2048, true, "gemma3-270m q8_0 gate/up"},
		} {
			t.Run(fmt.Sprintf("%v_%dx%d", tc.typ, tc.in, tc.out), func(t *testing.T) {
				bufs := newBuffers(t, c) // released after each shape
				newWeight := benchWeights(r, bufs)
				bytes := float64(NewWeight(tc.typ, tc.in, tc.out, nil).RowBytes()) * float64(tc.out)
				if tc.glu {
					bytes *= 2
				}
				copies := min(8, max(1, int(160e6/bytes)+1))
				type pair struct{ w, up Weight }
				ws := make([]pair, copies)
				for i := range ws {
					ws[i].w = newWeight(tc.typ, tc.in, tc.out)
					if tc.glu {
						ws[i].up = newWeight(tc.typ, tc.in, tc.out)
					}
				}
				x := bufs.act(randFloats(r, tc.in, 1))
				y := bufs.actOut(tc.out)
				m, err := NewMatMul(testCtx(t), c, tc.typ)
				require.NoError(t, err)
				m2 := NewMatMul2(c, tc.typ)
				parts := []int{0}
				if tc.typ.Quantized() {
					parts = []int{0, 1, 2, 4, 8}
				}
				// Two rounds over every setting, the faster time of each counts:
				// the first timings after the uploads ran up to 2× slow.
				type setting struct {
					lanes, parts int
					q8           bool // 8-bit activations
				}
				var settings []setting
				for _, q8 := range []bool{false, true} {
					if q8 && !q8Types[tc.typ] {
						continue
					}
					for _, lanes := range []int{0, 4, 8, 16, 32, 64, 128} {
						for _, wp := range parts {
							if (wp <= lanes || lanes == 0) && wp <= gemvMaxParts(tc.typ) {
								settings = append(settings, setting{lanes, wp, q8})
							}
						}
					}
				}
				times := make([]float64, len(settings))
				shapes := make([]gemvShape, len(settings))
				for round := 0; round < 2; round++ {
					for i, st := range settings {
						gemvLanesFixed, gemvPartsFixed, Q8Fixed = st.lanes, st.parts, -1
						if st.q8 {
							Q8Fixed = 1
						}
						shapes[i] = newGemvShapeQ8(matmulUnit(tc.typ, tc.in), tc.in/matmulUnit(tc.typ, tc.in), tc.out, 1, st.q8, tc.typ)
						ds := make([]*Dispatch, copies)
						for j, p := range ws {
							if tc.glu {
								ds[j], err = m2.PrepareGLU(testCtx(t), p.w, p.up, x.Binding(), y.Binding(), 1, GELUTanh)
							} else {
								ds[j], err = m.Prepare(p.w, x.Binding(), y.Binding(), 1)
							}
							require.NoError(t, err)
						}
						gemvLanesFixed, gemvPartsFixed, Q8Fixed = 0, 0, 0
						n := max(1, 16/copies)
						var sec float64
						if c.Dev.HasFeature(gpu.FeatureTimestampQuery) {
							sec = timeIt("gemv", 4*n, ds...) / float64(copies)
						} else {
							t1 := timeIt("gemv", n, ds...) * float64(n)
							t4 := timeIt("gemv", 4*n, ds...) * float64(4*n)
							sec = (t4 - t1) / float64(3*n*copies)
						}
						if round == 0 || sec < times[i] {
							times[i] = sec
						}
						for _, d := range ds {
							d.Release()
						}
					}
				}
				best, bestAt := 1e9, ""
				for i, st := range settings {
					mark := ""
					if st.lanes == 0 && st.parts == 0 {
						mark = " (default)"
					}
					at := fmt.Sprintf("lanes %d parts %d q8 %v", shapes[i].lanes, shapes[i].parts, st.q8)
					if times[i] < best {
						best, bestAt = times[i], at
					}
					t.Logf("%v gemv %v %dx%d glu=%v (%s) %s%s: %.1f µs, %.0f GB/s", prec, tc.typ, tc.in, tc.out, tc.glu, tc.model,
						at, mark, times[i]*1e6, bytes/times[i]/1e9)
				}
				t.Logf("%v gemv %v %dx%d glu=%v (%s) best: %s, %.1f µs, %.0f GB/s", prec, tc.typ, tc.in, tc.out, tc.glu, tc.model,
					bestAt, best*1e6, bytes/best/1e9)
			})
		}
	})
}

// TestBenchLaunch times the smallest launches of a decode step, back to
// back in one pass (each depends on the one before, as in the step): what a
// launch costs the GPU beyond its work.
func TestBenchLaunch(t *testing.T) {
	forBenchContexts(t, func(prec Precision, c *Context, timeIt benchTimer) {
		r := rand.New(rand.NewPCG(1, 2))
		bufs := newBuffers(t, c)
		norm, err := NewRMSNorm(testCtx(t), c)
		require.NoError(t, err)
		elt, err := NewEltwise(testCtx(t), c)
		require.NoError(t, err)
		for _, n := range []int{640, 2304} {
			a, b := bufs.act(randFloats(r, n, 1)), bufs.act(randFloats(r, n, 1))
			w1, w2 := bufs.raw(f32Bytes(randFloats(r, n, 1))), bufs.raw(f32Bytes(randFloats(r, n, 1)))
			out := bufs.actOut(n)
			pre, err := norm.PrepareNormAdd(a.Binding(), b.Binding(), w1.Binding(), w2.Binding(), out.Binding(), NormParams{Rows: 1, N: n, Eps: 1e-6, OnePlus: true})
			require.NoError(t, err)
			addNorm, err := norm.PrepareAdd(a.Binding(), b.Binding(), w1.Binding(), out.Binding(), NormParams{Rows: 1, N: n, Eps: 1e-6})
			require.NoError(t, err)
			add, err := elt.PrepareAdd(a.Binding(), b.Binding(), out.Binding(), n)
			require.NoError(t, err)
			t.Logf("%v launch rmsnorm_add_pre n=%d: %.2f µs", prec, n, timeIt("launch", 200, pre)*1e6)
			t.Logf("%v launch rmsnorm_add n=%d: %.2f µs", prec, n, timeIt("launch", 200, addNorm)*1e6)
			t.Logf("%v launch add n=%d: %.2f µs", prec, n, timeIt("launch", 200, add)*1e6)
			pre.Release()
			addNorm.Release()
			add.Release()
		}
	})
}

// benchTiles are the tile and split-k configurations TestBenchTiled times
// (splits 0: as splitsFor picks); the zero one is the matmul's own choice.
// q8 is TiledQ8Fixed's value (0: the matmul's choice; 1: the integer
// kernel, stepping k by step, for the types that have it; −1: the float
// one). On an H100 and an H200 the integer kernel took 1.5–2× less time
// per layer than the float one; 64-element steps, a next step's units
// decoded into registers ahead, sums converted to floats by a bit trick
// in place of a conversion, and other tiles changed nothing or were
// slower (8×4 micro-tiles 10%), except 32×64 tiles for Q4_K (4% faster,
// but 25% slower for Qwen3's Q8_0).
var benchTiles = []struct {
	tile     tileShape
	splits   int
	q8, step int
}{
	{tileLarge, 0, -1, 0}, {tileLarge, 1, 1, 32}, {tileLarge, 0, 1, 32}, {tileLarge, 0, 1, 64},
	{tileShape{64, 64, 8, 4}, 0, 1, 32}, {tileShape{32, 64, 4, 4}, 0, 1, 32}, {},
}

// holds reports whether the device runs the tile: its workgroup memory
// (the X and weight tiles as f32, or as the integer kernel's bytes and
// scales stepping k by step) and invocations within the device's limits.
// The kernels' own 64×64 tile fits WebGPU's defaults.
func (c *Context) holds(s tileShape, q8, step int) bool {
	lim := c.Dev.Info.Limits
	shared := 4 * tileK * (s.rows + s.cols)
	if q8 > 0 {
		shared = step*(s.rows+s.cols) + step/32*(8*s.rows+12*s.cols)
	}
	invocations := (s.cols / s.nr) * (s.rows / s.mr)
	return uint64(shared) <= lim["maxComputeWorkgroupStorageSize"] &&
		uint64(invocations) <= lim["maxComputeInvocationsPerWorkgroup"]
}

// TestBenchTiled times the tiled matmul in each configuration of
// benchTiles on the prefill projections (512 rows) of the bench models,
// in → out: q, k, o, gate and down of gemma-3-270m, Qwen3-0.6B, gemma-3-1b
// and gemma-2-2b, per weight type; the last column is the matmul's choice.
func TestBenchTiled(t *testing.T) {
	defer func(f tileShape, n int) { TiledFixed, SplitFixed, TiledQ8Fixed, TiledQ8StepFixed = f, n, 0, 0 }(TiledFixed, SplitFixed)
	forBenchContexts(t, func(prec Precision, c *Context, timeIt benchTimer) {
		r := rand.New(rand.NewPCG(3, 4))
		bufs := newBuffers(t, c)
		newWeight := benchWeights(r, bufs)
		const rows = 512
		models := []struct {
			name   string
			shapes [][2]int
		}{
			{"gemma3-270m", [][2]int{{640, 1024}, {640, 256}, {1024, 640}, {640, 2048}, {2048, 640}}},
			{"qwen3-0.6b", [][2]int{{1024, 2048}, {1024, 1024}, {2048, 1024}, {1024, 3072}, {3072, 1024}}},
			{"gemma3-1b", [][2]int{{1152, 1024}, {1152, 256}, {1024, 1152}, {1152, 6912}, {6912, 1152}}},
			{"gemma2-2b", [][2]int{{2304, 2048}, {2304, 1024}, {2048, 2304}, {2304, 9216}, {9216, 2304}}},
		}
		x := bufs.act(randFloats(r, rows*9216, 1))
		y := bufs.actOut(rows * 9216)
		for _, typ := range []dtype.DType{dtype.Q4_K, dtype.Q8_0, dtype.F16} {
			ms := map[dtype.DType]*MatMul{}
			for _, wt := range []dtype.DType{typ, dtype.Q5_0} {
				var err error
				ms[wt], err = NewMatMul(testCtx(t), c, wt)
				require.NoError(t, err)
			}
			for _, model := range models {
				total := make([]float64, len(benchTiles))
				for _, sh := range model.shapes {
					in, out := sh[0], sh[1]
					wt := typ
					if wt == dtype.Q4_K && in%256 != 0 {
						wt = dtype.Q5_0 // as llama.cpp's q4_k_m files store such rows
					}
					w := newWeight(wt, in, out)
					line := fmt.Sprintf("%v tiled %v %s %dx%dx%d:", prec, wt, model.name, rows, in, out)
					for i, bt := range benchTiles {
						if bt.tile != (tileShape{}) && !c.holds(bt.tile, bt.q8, bt.step) || bt.q8 > 0 && !c.TiledQ8(in, wt) {
							continue
						}
						TiledFixed, SplitFixed, TiledQ8Fixed, TiledQ8StepFixed = bt.tile, bt.splits, bt.q8, bt.step
						tile := tileFor()
						step := tileK
						if c.TiledQ8(in, wt) {
							step = tiledQ8Step()
						}
						splits, _ := splitsFor(in, out, step)
						disp, err := ms[wt].Prepare(w, x.Binding(), y.Binding(), rows)
						require.NoError(t, err)
						sec := timeIt("tiled", 50, disp)
						disp.Release()
						total[i] += sec
						kind := "f32"
						if c.TiledQ8(in, wt) {
							kind = fmt.Sprintf("q8k%d", step)
						}
						line += fmt.Sprintf(" %s %dx%d/%d %.1f µs %.1f TFLOP/s;", kind, tile.rows, tile.cols, splits,
							sec*1e6, 2*float64(rows*in*out)/sec/1e12)
						TiledQ8Fixed, TiledQ8StepFixed = 0, 0
					}
					t.Log(line)
				}
				line := fmt.Sprintf("%v tiled %v %s per layer:", prec, typ, model.name)
				for i, s := range total {
					line += fmt.Sprintf(" %.1f µs", s*1e6)
					if i == len(benchTiles)-1 {
						line += " (chosen)"
					}
				}
				t.Log(line)
			}
		}
	})
}
