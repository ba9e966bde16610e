//go:build js && wasm

package gpuops

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBenchAttention times only the attention shapes of TestBenchKernels
// (DOPPLER_GPUOPS_BENCH=1), prompt chunks with both kernels.
func TestBenchAttention(t *testing.T) {
	forBenchContexts(t, func(_ Precision, c *Context, timeIt benchTimer) {
		benchAttention(t, c, newBuffers(t, c), rand.New(rand.NewPCG(1, 2)), timeIt)
	})
}

// prefillSweep are the tiled kernel's block shapes
// DOPPLER_GPUOPS_BENCH_SWEEP=tiled times
// (the first is the default).
var prefillSweep = []struct{ inv, vpm, qpi int }{
	{128, 8, 1}, {128, 8, 2}, {256, 8, 1}, {64, 8, 1}, {128, 4, 1}, {128, 16, 1}, {64, 8, 2}, {128, 4, 2}, {64, 4, 4},
}

// benchTilings runs f under each block shape of prefillSweep, restoring
// the current one after.
func benchTilings(hd int, f func(label string)) {
	defer func(inv, vpm, qpi int) {
		prefillInvocations, prefillMaxVPM, prefillQPI = inv, vpm, qpi
	}(prefillInvocations, prefillMaxVPM, prefillQPI)
	for _, sh := range prefillSweep {
		prefillInvocations, prefillMaxVPM, prefillQPI = sh.inv, sh.vpm, sh.qpi
		f(fmt.Sprintf("%+v", newPrefillTiling(hd)))
	}
}

// blockSweep are the blocked kernel's sizes (block = tile) and head_dim
// steps DOPPLER_GPUOPS_BENCH_SWEEP=1 times (beside the tiled kernel's
// default), and the workgroup targets of its default shape.
var (
	blockSweep   = []struct{ size, dk int }{{64, 32}, {64, 16}, {64, 8}, {32, 16}}
	blockTargets = []int{256, 512, 2048}
)

// benchBlocks runs f under each blocked tiling of blockSweep that fits c's
// device, then the default one at each of blockTargets, restoring the
// defaults after.
func benchBlocks(hd int, c *Context, f func(label string)) {
	defer func(shapes []struct{ size, dk int }, target int) {
		blockShapes, AttnTiledTargetGroups = shapes, target
	}(blockShapes, AttnTiledTargetGroups)
	shared := c.Dev.Info.Limits["maxComputeWorkgroupStorageSize"]
	for _, sh := range blockSweep {
		blockShapes = []struct{ size, dk int }{sh}
		if bt, ok := newBlockTiling(hd, shared); ok {
			f(fmt.Sprintf("%+v", bt))
		}
	}
	blockShapes = blockSweep[:1]
	for _, target := range blockTargets {
		AttnTiledTargetGroups = target
		if bt, ok := newBlockTiling(hd, shared); ok {
			f(fmt.Sprintf("%+v target %d", bt, target))
		}
	}
}

// attnBenchShapes are decode steps and prompt chunks at model sizes:
// Qwen3-0.6B (16/8 heads of 128), gemma-3-270m (4/1 of 256, a 512 window on
// most layers), a wider 8/4 of 256. DOPPLER_GPUOPS_BENCH_SMALL=1 times a
// medium chunk only (lavapipe).
var attnBenchShapes = []struct{ T, pos, heads, kv, hd, cache, window int }{
	{1, 4095, 32, 8, 128, 4096, 0}, {1, 1000, 8, 1, 256, 4096, 0}, {512, 0, 32, 8, 64, 1024, 0},
	{256, 256, 16, 8, 128, 1024, 0}, {256, 256, 4, 1, 256, 1024, 0}, {256, 768, 4, 1, 256, 1024, 512},
	{512, 0, 8, 4, 256, 1024, 0},
	// A 512-token prompt's only chunk: Qwen3-0.6B, gemma-3-270m/1b.
	{512, 0, 16, 8, 128, 1024, 0}, {512, 0, 4, 1, 256, 1024, 0},
	// The last chunk of a 2,048-token prompt: Qwen3-0.6B, gemma-2-2b.
	{512, 1536, 16, 8, 128, 2048, 0}, {512, 1536, 8, 4, 256, 2048, 0},
}

var attnBenchSmall = []struct{ T, pos, heads, kv, hd, cache, window int }{{128, 0, 8, 4, 128, 256, 0}, {128, 128, 8, 4, 128, 256, 0}}

// benchAttention logs ms and TFLOP/s (2·head_dim multiply-adds per visible
// key and head for q·k and for p·v) of each shape; prompt chunks run with
// the row-wise and the tiled kernel, whose outputs must agree.
func benchAttention(t *testing.T, c *Context, bufs *buffers, r *rand.Rand, timeIt benchTimer) {
	at, err := NewAttention(testCtx(t), c)
	require.NoError(t, err)
	shapes := attnBenchShapes
	if os.Getenv("DOPPLER_GPUOPS_BENCH_SMALL") != "" {
		shapes = attnBenchSmall
	}
	for _, tc := range shapes {
		rows := tc.T
		q := bufs.act(randFloats(r, rows*tc.heads*tc.hd, 1))
		k := bufs.act(randFloats(r, rows*tc.kv*tc.hd, 1))
		v := bufs.act(randFloats(r, rows*tc.kv*tc.hd, 1))
		kc := bufs.act(randFloats(r, tc.cache*tc.kv*tc.hd, 1))
		vc := bufs.act(randFloats(r, tc.cache*tc.kv*tc.hd, 1))
		step := make([]int32, rows+1)
		var keys float64
		for i := 0; i < rows; i++ {
			step[i] = int32(tc.pos + i)
			n := tc.pos + i + 1
			if tc.window > 0 {
				n = min(n, tc.window)
			}
			keys += float64(n)
		}
		flops := 4 * float64(tc.hd*tc.heads) * keys
		stepBuf := bufs.raw(i32Bytes(step))
		out := bufs.actOut(rows * tc.heads * tc.hd)
		var want []float32 // the row-wise kernel's output, for the tiled ones
		measure := func(kern AttnKernel, split int, label string) {
			disp, err := at.Prepare(q.Binding(), k.Binding(), v.Binding(), kc.Binding(), vc.Binding(), stepBuf.Binding(), out.Binding(),
				AttnShape{B: 1, T: tc.T, Heads: tc.heads, KVHeads: tc.kv, HeadDim: tc.hd, CacheLen: tc.cache, SlotOff: rows, Scale: 0.1,
					Window: tc.window, Kernel: kern, SplitLen: split})
			require.NoError(t, err)
			defer disp.Release()
			sec := timeIt("attention", 20, disp)
			name := fmt.Sprintf("%v attention %v%s split %d T=%d pos=%d heads %d/%d hd %d window %d", c.Prec, kern, label, split,
				tc.T, tc.pos, tc.heads, tc.kv, tc.hd, tc.window)
			t.Logf("%s: %.3f ms, %.3g TFLOP/s (%d launches)", name, sec*1e3, flops/sec/1e12, disp.Dispatches())
			if tc.T == 1 {
				return
			}
			got := readAct(t, c, out, rows*tc.heads*tc.hd)
			if want == nil {
				want = got
				return
			}
			requireClose(t, name, got, want, tolFor(c.Prec, 1e-3))
		}
		if tc.T == 1 {
			measure(AttnAuto, 0, "")
			continue
		}
		measure(AttnRowwise, 0, "")
		// The tiled and blocked kernels with split keys (auto) and without.
		for _, split := range []int{0, tc.cache} {
			if os.Getenv("DOPPLER_GPUOPS_BENCH_SWEEP") == "" {
				measure(AttnTiled, split, "")
				measure(AttnBlock, split, "")
				continue
			}
			if os.Getenv("DOPPLER_GPUOPS_BENCH_SWEEP") == "tiled" {
				benchTilings(tc.hd, func(label string) { measure(AttnTiled, split, " "+label) })
				continue
			}
			measure(AttnTiled, split, "")
			benchBlocks(tc.hd, c, func(label string) { measure(AttnBlock, split, " "+label) })
		}
	}
}

// decodeBenchShapes are decode steps of our models (heads/KV heads of
// head_dim) at a 512-token prompt's positions, a long context's, and a
// short history in a long session.
var decodeBenchShapes = []struct {
	label                     string
	pos, heads, kv, hd, cache int
}{
	{"gemma3-270m", 600, 4, 1, 256, 641}, {"gemma3-1b", 600, 4, 1, 256, 641}, {"qwen3-0.6b", 600, 16, 8, 128, 641},
	{"gemma2-2b", 600, 8, 4, 256, 641}, {"gemma3-270m long", 4000, 4, 1, 256, 4096}, {"qwen3-0.6b long", 4000, 16, 8, 128, 4096},
	// A session longer than its history (a chat after a long page, a
	// generation's early steps): splits sized for the whole cache, most of
	// them past the row's position.
	{"gemma3-270m early", 600, 4, 1, 256, 4096}, {"qwen3-0.6b early", 600, 16, 8, 128, 4096},
}

// TestBenchDecodeAttention times decode attention (with its combine) per
// kernel: the per-query-head one (attention.wgsl) and the grouped one
// (attention_decode.wgsl) at several workgroup targets; their outputs must
// agree.
func TestBenchDecodeAttention(t *testing.T) {
	forBenchContexts(t, func(_ Precision, c *Context, timeIt benchTimer) {
		at, err := NewAttention(testCtx(t), c)
		require.NoError(t, err)
		bufs := newBuffers(t, c)
		r := rand.New(rand.NewPCG(4, 5))
		defer func(target int) { AttnGroupedFixed, AttnDecodeTarget = 0, target }(AttnDecodeTarget)
		for _, tc := range decodeBenchShapes {
			q := bufs.act(randFloats(r, tc.heads*tc.hd, 1))
			k := bufs.act(randFloats(r, tc.kv*tc.hd, 1))
			v := bufs.act(randFloats(r, tc.kv*tc.hd, 1))
			kc := bufs.act(randFloats(r, tc.cache*tc.kv*tc.hd, 1))
			vc := bufs.act(randFloats(r, tc.cache*tc.kv*tc.hd, 1))
			stepBuf := bufs.raw(i32Bytes([]int32{int32(tc.pos), 0}))
			out := bufs.actOut(tc.heads * tc.hd)
			var want []float32
			// Every run's pipelines are compiled before any is timed, then
			// the GPU is kept busy a while: on the H200, compiling between
			// timings left it idle long enough to drop its clocks, and every
			// launch after read ~3× slow.
			runs := []struct{ grouped, target int }{{-1, 0}, {1, 64}, {1, 128}, {1, 256}, {1, 512}}
			disps := make([]*Dispatch, len(runs))
			for i, run := range runs {
				AttnGroupedFixed, AttnDecodeTarget = run.grouped, run.target
				disps[i], err = at.Prepare(q.Binding(), k.Binding(), v.Binding(), kc.Binding(), vc.Binding(), stepBuf.Binding(), out.Binding(),
					AttnShape{B: 1, T: 1, Heads: tc.heads, KVHeads: tc.kv, HeadDim: tc.hd, CacheLen: tc.cache, SlotOff: 1, Scale: 0.1})
				require.NoError(t, err)
			}
			timeIt("warm-up", 4000, disps[len(disps)-1])
			for i, run := range runs {
				disp := disps[i]
				sec := timeIt("decode attention", 200, disp)
				name := fmt.Sprintf("%v decode attention %s pos %d grouped %d target %d", c.Prec, tc.label, tc.pos, run.grouped, run.target)
				t.Logf("%s: %.2f µs (%d launches)", name, sec*1e6, disp.Dispatches())
				got := readAct(t, c, out, tc.heads*tc.hd)
				if want == nil {
					want = got
				} else {
					requireClose(t, name, got, want, tolFor(c.Prec, 1e-4))
				}
				disp.Release()
			}
		}
	})
}
