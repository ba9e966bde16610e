//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
)

// TiledMinRows is the row count from which MatMul uses the tiled kernel
// (below it, the GEMV kernel reads each weight once per 4 rows anyway).
var TiledMinRows = 16

// MatMul multiplies activations [rows, In] by a packed {In, Out} weight.
type MatMul struct {
	c       *Context
	t       dtype.DType
	mu      sync.Mutex
	kernels map[matmulKey]*kernel
}

// NewMatMul compiles the decode GEMV for weights of dtype t (for plain types,
// the variant for rows of a multiple of 4 elements). The tiled kernel and the
// odd-row variant compile on first use (in Prepare: lavapipe takes seconds
// per pipeline).
func NewMatMul(ctx context.Context, c *Context, t dtype.DType) (*MatMul, error) {
	m := &MatMul{c: c, t: t, kernels: map[matmulKey]*kernel{}}
	if _, err := m.kernel(ctx, matmulUnit(t, 4), tileShape{}, newGemvShape(matmulUnit(t, 4), 1, 1, 1, t), false, nil, 0); err != nil {
		return nil, err
	}
	return m, nil
}

type matmulKey struct {
	unit int
	gemv gemvShape // zero for the tiled kernel
	q8   bool      // 8-bit activations (Context.Q8Acts)
	pro  gemvPro   // zero: none
	tile tileShape // the tiled kernel's (zero for the GEMV)
	nw   int       // the tiled kernel's weights (PrepareShared; 0: one)
}

// kernel is the decode GEMV (tile zero) or the tiled matmul over nw
// weights (0 or 1: one).
func (m *MatMul) kernel(ctx context.Context, unit int, tile tileShape, gs gemvShape, q8 bool, cb *GemvCombine, nw int) (*kernel, error) {
	tiled := tile != tileShape{}
	if tiled {
		gs = gemvShape{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := matmulKey{unit: unit, gemv: gs, q8: q8, tile: tile, nw: nw}
	pro := cb.shape()
	if pro != nil {
		key.pro = *pro
	}
	if k, ok := m.kernels[key]; ok {
		return k, nil
	}
	sh := shader{kernel: "matmul", params: matmulParams{}, weight: m.t, hasWeight: true, reduce: true, xdot: true, unit: unit,
		consts: gs.consts(), q8: q8, pro: pro}
	entries := []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage}
	if tiled {
		var err error
		if sh, entries, err = tiledShader(m.t, unit, tile, q8, false, max(nw, 1)); err != nil {
			return nil, err
		}
	}
	k, err := m.c.compile(ctx, sh, entries...)
	if err != nil {
		return nil, err
	}
	m.kernels[key] = k
	return k, nil
}

// tiledShader is the tiled matmul over weights of dtype t (the integer
// kernel, matmul_tiled_q8.wgsl, where q8) and its binding types: uniform,
// W, X, Y, then with glu the up weight W2 (gate and up in one launch that
// stores act(gate)·up), or with nw > 1 the pairs W2, Y2 and W3, Y3 (nw
// weights of one input in one launch, each into its own output), then the
// split-k partials (matmul_tile.wgsl).
func tiledShader(t dtype.DType, unit int, tile tileShape, q8, glu bool, nw int) (shader, []gpu.BindingType, error) {
	if nw < 1 || nw > 3 || glu && nw != 1 {
		return shader{}, nil, fmt.Errorf("gpuops: no tiled matmul reads %d weights (glu %v)", nw, glu)
	}
	consts := tile.consts()
	consts["GLU"], consts["NW"] = fmt.Sprint(glu), fmt.Sprintf("%du", nw)
	entries := []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage}
	// What a column of the second and third weights fetches and where their
	// outputs go: W's own loader and Y where the kernel has no such weight
	// (matmul_tile.wgsl's tile_w never picks them then).
	var more []dtype.DType
	loaders := [2]string{"", ""}
	stores := [2]string{"Y[i] = v;", "Y[i] = v;"}
	var decls strings.Builder
	switch {
	case glu:
		entries = append(entries, gpu.ReadOnlyStorage)
		more, loaders[0] = []dtype.DType{t}, "2"
	case nw > 1:
		for i := 0; i < nw-1; i++ {
			entries = append(entries, gpu.ReadOnlyStorage, gpu.Storage)
			more = append(more, t)
			loaders[i] = fmt.Sprint(i + 2)
			stores[i] = fmt.Sprintf("Y%d[i] = v;", i+2)
			fmt.Fprintf(&decls, "@group(0) @binding(%d) var<storage, read_write> Y%d: array<ACT>;\n", len(entries)-1, i+2)
		}
	}
	consts["PART_B"] = fmt.Sprint(len(entries))
	entries = append(entries, gpu.Storage) // split-k partials
	libs := []string{"matmul_tile", "glu_act"}
	extra := decls.String()
	for i, suffix := range []string{"2", "3"} {
		extra += fmt.Sprintf("fn store_y%s(i: u32, v: ACT) { %s }\n", suffix, stores[i])
	}
	float, integer := extra, extra
	for i, suffix := range []string{"2", "3"} {
		float += fmt.Sprintf("fn load_unit_w%s(row: u32, u: u32, w: ptr<function, array<f32, UNIT>>) { load_unit%s(row, u, w); }\n", suffix, loaders[i])
		integer += fmt.Sprintf("fn load_unit_i8_w%s(row: u32, u: u32, q: ptr<function, array<u32, 8>>) -> vec3<f32> { return load_unit_i8%s(row, u, q); }\n", suffix, loaders[i])
	}
	// xdot for its XT alias: the float kernel reads X as vec4 when the unit allows.
	sh := shader{kernel: "matmul_tiled", params: tiledParams{}, weight: t, hasWeight: true, xdot: true, unit: unit, consts: consts, libs: libs, extra: float, more: more}
	if q8 {
		step := tiledQ8Step()
		if step%32 != 0 || tile.rows*step/32 > (tile.rows/tile.mr)*(tile.cols/tile.nr) {
			// One invocation stages each row's scales of a step.
			return shader{}, nil, fmt.Errorf("gpuops: the integer tiled matmul cannot step %d with a %dx%d tile", step, tile.rows, tile.cols)
		}
		consts["TK"] = fmt.Sprintf("%du", step)
		sh = shader{kernel: "matmul_tiled_q8", params: tiledParams{}, weight: t, hasWeight: true, wint: true, unit: unit, consts: consts, libs: libs, extra: integer, more: more}
	}
	return sh, entries, nil
}

// Prepare computes y [rows, Out] = x [rows, In] · wᵀ, one launch per weight
// chunk (each writing its own output columns): the GEMV kernel below
// TiledMinRows rows, the tiled kernel from there.
func (m *MatMul) Prepare(w Weight, x, y gpu.Binding, rows int) (*Dispatch, error) {
	return m.prepare(w, x, y, rows, false, nil)
}

// PrepareQ8In is Prepare of one row whose activations xq are 8-bit
// already (NormParams.Q8Out): for weights Q8Acts accepts.
func (m *MatMul) PrepareQ8In(w Weight, xq, y gpu.Binding) (*Dispatch, error) {
	return m.prepare(w, xq, y, 1, true, nil)
}

// PrepareQ8Rows is Prepare of rows ≥ TiledMinRows rows whose activations
// xq are 8-bit already (PrepareQuantizeRows), for weights TiledQ8 accepts:
// q/k/v or gate and up share one quantize launch.
func (m *MatMul) PrepareQ8Rows(w Weight, xq, y gpu.Binding, rows int) (*Dispatch, error) {
	if rows < TiledMinRows || !m.c.TiledQ8(w.In, w.DType) {
		return nil, fmt.Errorf("gpuops: no tiled matmul of %d rows reads 8-bit activations of %v weights {%d, %d}", rows, w.DType, w.In, w.Out)
	}
	return m.prepare(w, xq, y, rows, true, nil)
}

// PrepareCombine is Prepare of one row that the decode attention left as
// split partials: the GEMV merges them itself (see GemvCombine).
func (m *MatMul) PrepareCombine(w Weight, cb GemvCombine, y gpu.Binding) (*Dispatch, error) {
	return m.prepare(w, cb.Part, y, 1, false, &cb)
}

func (m *MatMul) prepare(w Weight, x, y gpu.Binding, rows int, pre bool, cb *GemvCombine) (*Dispatch, error) {
	if w.DType != m.t {
		return nil, fmt.Errorf("gpuops: matmul compiled for %v, weight is %v", m.t, w.DType)
	}
	chunks, err := m.c.chunks(w)
	if err != nil {
		return nil, err
	}
	if err := cb.check(w.In, rows); err != nil {
		return nil, err
	}
	unit := matmulUnit(m.t, w.In)
	if rows >= TiledMinRows {
		if cb != nil {
			return nil, fmt.Errorf("gpuops: %d rows of split activations (one row needed)", rows)
		}
		return m.prepareTiled(w, chunks, unit, x, y, rows, pre)
	}
	units := w.In / unit
	in, err := m.c.q8For(pre, rows, w.In, w.Out, m.t)
	if err != nil {
		return nil, err
	}
	in.q8 = in.q8 && cb == nil
	gs := newGemvShapeQ8(unit, units, w.Out, rows, in.q8, m.t)
	k, err := m.kernel(context.Background(), unit, tileShape{}, gs, in.q8, cb, 0)
	if err != nil {
		return nil, err
	}
	d := &Dispatch{Label: "matmul"}
	if x, err = in.input(m.c, d, x, w.In); err != nil {
		d.Release()
		return nil, err
	}
	for _, ch := range chunks {
		p := matmulParams{
			K: uint32(w.In), N: uint32(ch.rows), Rows: uint32(rows), Units: uint32(units),
			RowBytes: uint32(w.RowBytes()), WBase: ch.wbase, LdY: uint32(w.Out), YOff: uint32(ch.rowStart),
			gemvCombineParams: cb.uniform(),
		}
		if err := d.add(k, p, gemvGroups(ch.rows, rows, gs.lanes), ch.binding, x, y); err != nil {
			d.Release()
			return nil, err
		}
	}
	return d, nil
}

// prepareTiled is prepare for TiledMinRows rows or more: the tiled kernel
// per weight chunk, each split over k where its tiles are too few
// (splitsFor), with the launch that adds up the splits after it; the
// integer kernel where TiledQ8 says, after the launch that quantizes x
// unless pre (x holds 8-bit rows already).
func (m *MatMul) prepareTiled(w Weight, chunks []chunk, unit int, x, y gpu.Binding, rows int, pre bool) (*Dispatch, error) {
	d := &Dispatch{Label: "matmul"}
	fail := func(err error) (*Dispatch, error) { d.Release(); return nil, err }
	q8 := m.c.TiledQ8(w.In, m.t)
	step := tileK
	if q8 {
		step = tiledQ8Step()
	}
	x, err := m.c.tiledRows(d, x, w.In, rows, q8, pre)
	if err != nil {
		return fail(err)
	}
	for _, ch := range chunks {
		tile := tileFor()
		k, err := m.kernel(context.Background(), unit, tile, gemvShape{}, q8, nil, 0)
		if err != nil {
			return fail(err)
		}
		groups := tile.groups(rows, ch.rows)
		splits, slice := splitsFor(w.In, ch.rows, step)
		p := tiledParams{
			K: uint32(w.In), N: uint32(ch.rows), Rows: uint32(rows), RowBytes: uint32(w.RowBytes()), WBase: ch.wbase,
			LdY: uint32(w.Out), YOff: uint32(ch.rowStart), Splits: uint32(splits), KSlice: uint32(slice),
		}
		part, err := m.c.noPartials()
		if splits > 1 {
			part, err = m.c.pooled(&m.c.parts, "split-k partials", uint64(4*splits*rows*ch.rows))
		}
		if err != nil {
			return fail(err)
		}
		if err := d.add(k, p, groups*uint32(splits), ch.binding, x, y, part); err != nil {
			return fail(err)
		}
		if splits > 1 {
			sum, err := m.c.compile(context.Background(), shader{kernel: "matmul_splitk", params: tiledParams{}},
				gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage)
			if err != nil {
				return fail(err)
			}
			if err := d.add(sum, p, groupsFor(rows*ch.rows), part, y); err != nil {
				return fail(err)
			}
		}
	}
	return d, nil
}

// sharedChunks is the one chunk of each of ws that PrepareShared runs
// in one tiled launch over rows rows, with its tile and k step; ok is
// false where it cannot: 2 or 3 weights of the matmul's dtype and one
// input length, each in one chunk, every one but the last a whole number
// of tiles (so a tile reads one weight), and together too many outputs to
// split over k (splitsFor: the launch writes no partials).
func (m *MatMul) sharedChunks(ws []Weight, rows int) (chs []chunk, tile tileShape, q8, ok bool) {
	if len(ws) < 2 || len(ws) > 3 || rows < TiledMinRows {
		return nil, tileShape{}, false, false
	}
	tile = tileFor()
	q8 = m.c.TiledQ8(ws[0].In, m.t)
	step := tileK
	if q8 {
		step = tiledQ8Step()
	}
	n := 0
	for i, w := range ws {
		ch, err := m.c.chunks(w)
		if err != nil || len(ch) != 1 || w.DType != m.t || w.In != ws[0].In || i < len(ws)-1 && w.Out%tile.cols != 0 {
			return nil, tileShape{}, false, false
		}
		chs = append(chs, ch[0])
		n += w.Out
	}
	if splits, _ := splitsFor(ws[0].In, n, step); splits != 1 {
		return nil, tileShape{}, false, false
	}
	return chs, tile, q8, true
}

// Shares reports whether PrepareShared runs ws over rows rows.
func (m *MatMul) Shares(ws []Weight, rows int) bool {
	_, _, _, ok := m.sharedChunks(ws, rows)
	return ok
}

// PrepareShared computes ys[i] [rows, ws[i].Out] = x [rows, In] · ws[i]ᵀ
// for the weights of one input (a prompt chunk's q, k and v projections;
// Shares must hold) in one tiled launch, after the launch that quantizes
// x where the integer kernel runs and x is not 8-bit already (pre): one
// launch for two or three, and more tiles in it than each would have.
func (m *MatMul) PrepareShared(ws []Weight, x gpu.Binding, ys []gpu.Binding, rows int, pre bool) (*Dispatch, error) {
	chs, tile, q8, ok := m.sharedChunks(ws, rows)
	if !ok || len(ys) != len(ws) {
		return nil, fmt.Errorf("gpuops: %d %v weights (%d outputs) over %d rows do not share one tiled matmul", len(ws), m.t, len(ys), rows)
	}
	k, err := m.kernel(context.Background(), matmulUnit(m.t, ws[0].In), tile, gemvShape{}, q8, nil, len(ws))
	if err != nil {
		return nil, err
	}
	d := &Dispatch{Label: "matmul_shared"}
	fail := func(err error) (*Dispatch, error) { d.Release(); return nil, err }
	if x, err = m.c.tiledRows(d, x, ws[0].In, rows, q8, pre); err != nil {
		return fail(err)
	}
	part, err := m.c.noPartials()
	if err != nil {
		return fail(err)
	}
	p := tiledParams{K: uint32(ws[0].In), Rows: uint32(rows), RowBytes: uint32(ws[0].RowBytes()), WBase: chs[0].wbase,
		LdY: uint32(ws[0].Out), Splits: 1, KSlice: uint32(ws[0].In)}
	bindings := []gpu.Binding{chs[0].binding, x, ys[0]}
	for i, w := range ws {
		if i > 0 {
			bindings = append(bindings, chs[i].binding, ys[i])
		}
		switch i {
		case 1:
			p.WBase2, p.N1 = chs[i].wbase, p.N
		case 2:
			p.WBase3, p.N2 = chs[i].wbase, p.N
		}
		p.N += uint32(w.Out)
	}
	if err := d.add(k, p, tile.groups(rows, int(p.N)), append(bindings, part)...); err != nil {
		return fail(err)
	}
	return d, nil
}

// SplitFixed, when non-zero, is the number of k splits of every tiled
// matmul (at most one per k step; tests and benchmarks).
var SplitFixed = 0

// Split k: a tiled matmul over at least as many inputs as outputs splits
// its k steps into up to splitMax runs of at least splitMinSteps steps, in
// workgroups of their own; a second launch adds up the partials. On an
// H100 (TestBenchTiled, 512-row chunks) 4 splits took every such
// projection of the bench models down, by 13–57% (gemma-3-1b's down
// projection 6912→1152 642 → 385 µs, gemma-2-2b's 9216→2304 1212 → 919,
// the 256-output k and v projections 44 → 19), and none went up by more
// than 2%; projections to more outputs than inputs (gate and up) were
// 5–17% slower split.
var (
	splitMax      = 4
	splitMinSteps = 4
)

// splitsFor is the number of k splits of a tiled matmul of rows of k
// elements to n outputs stepping step elements of k, and the elements of
// k each covers (a multiple of step).
func splitsFor(k, n, step int) (splits, slice int) {
	steps := (k + step - 1) / step
	splits = 1
	if SplitFixed > 0 {
		splits = SplitFixed
	} else if k >= n {
		for splits < splitMax && steps >= 2*splits*splitMinSteps {
			splits *= 2
		}
	}
	per := (steps + splits - 1) / splits
	return (steps + per - 1) / per, per * step
}

// tileShape is the tiled kernel's output tile per workgroup (rows × cols)
// and each invocation's micro-tile (mr × nr), all multiples of 4; the
// kernel runs (cols/nr)·(rows/mr) invocations.
type tileShape struct{ rows, cols, mr, nr int }

// tileK is the tiled kernel's step over k (TK: one 32-element unit).
const tileK = 32

// tileLarge is the tiled kernel's tile: 64×64 in 256 invocations. On an
// H100 (TestBenchTiled, 512 rows) larger tiles and micro-tiles (128×64 and
// 64×128 with 8×4 and 4×8, 128×128 and 64×64 with 8×8) were 1.3–3× slower
// on every shape, and so were versions with 64 or 128 more invocations
// that stage the next step into double-buffered tiles while the others
// compute. 32×64 tiles took the 256-output k and v projections from 44 to
// 31 µs, where 4 splits over k take them to 19.
var tileLarge = tileShape{64, 64, 4, 4}

// TiledFixed, when set, is the tile every tiled matmul uses where the
// device holds it (tests and benchmarks).
var TiledFixed tileShape

// groups is the workgroups of a matmul of rows activation rows and n
// outputs.
func (s tileShape) groups(rows, n int) uint32 {
	return uint32(((n + s.cols - 1) / s.cols) * ((rows + s.rows - 1) / s.rows))
}

func (s tileShape) consts() map[string]string {
	return map[string]string{"TM": fmt.Sprintf("%du", s.rows), "TN": fmt.Sprintf("%du", s.cols),
		"MR": fmt.Sprintf("%du", s.mr), "NR": fmt.Sprintf("%du", s.nr)}
}

// tileFor is the tile of a tiled matmul.
func tileFor() tileShape {
	if TiledFixed != (tileShape{}) {
		return TiledFixed
	}
	return tileLarge
}
