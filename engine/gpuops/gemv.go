package gpuops

import (
	"fmt"

	"github.com/doppler-engine/doppler/engine/dtype"
)

// The decode GEMVs (kernels/matmul.wgsl, matmul_glu.wgsl, matmul_qkv.wgsl)
// give each weight row RS invocations that stride over its units, WP of
// them to a unit, NR = 256 / RS rows per workgroup, and TR activation rows
// (gemvActRows).
const gemvWG = 256

// gemvShape is a GEMV kernel's RS, TR and WP, and the unit loop's trip
// count UI (units over the RS/WP units an iteration covers) with UX, whether
// the units fill the last iteration: a constant trip count lets the compiler
// unroll the loop and issue every unit's loads at once.
type gemvShape struct {
	lanes, tr, parts int
	iters            int
	exact            bool
}

// newGemvShape picks the shape for n weight rows of units units of unit
// elements, rows activation rows and weights of types (one per weight the
// kernel reads).
func newGemvShape(unit, units, n, rows int, types ...dtype.DType) gemvShape {
	return newGemvShapeQ8(unit, units, n, rows, false, types...)
}

// newGemvShapeQ8 is newGemvShape for a GEMV reading 8-bit activations
// where q8 (Context.Q8Acts): their wdots cost few instructions a unit, so a unit
// is shared only where words are unaligned (Q8_0; gemvPartsQ8).
func newGemvShapeQ8(unit, units, n, rows int, q8 bool, types ...dtype.DType) gemvShape {
	s := gemvShape{lanes: gemvLanes(types[0], units, n), tr: gemvActRows(rows), parts: 1}
	if q8 && gemvLanesFixed == 0 && n >= gemvHeadRows {
		s.lanes = gemvHeadLanesQ8(types[0], units)
	}
	if unit == 32 { // block types: wdot's unit is 8 steps
		s.parts = 8
		for _, t := range types {
			if q8 {
				s.parts = min(s.parts, gemvPartsQ8(t))
			} else {
				s.parts = min(s.parts, gemvParts(t, n))
			}
		}
		s.parts = min(s.parts, s.lanes)
	}
	step := s.lanes / s.parts
	s.iters, s.exact = (units+step-1)/step, units%step == 0
	return s
}

// gemvMaxParts is the most invocations a unit of t can be shared by: the
// vector-read types split it in two halves, the others in 8 steps.
func gemvMaxParts(t dtype.DType) int {
	if vec4Weights[t] {
		return 2
	}
	return 8
}

func (s gemvShape) consts() map[string]string {
	return map[string]string{"RS": fmt.Sprintf("%du", s.lanes), "TR": fmt.Sprintf("%du", s.tr), "WP": fmt.Sprintf("%du", s.parts),
		"UI": fmt.Sprintf("%du", s.iters), "UX": fmt.Sprint(s.exact)}
}

// gemvPartsFixed, when non-zero, overrides gemvParts (kernel timing sweeps).
var gemvPartsFixed = 0

// gemvParts is WP for block-type weights of type t over n rows. On the
// H200 (TestBenchGEMV, GPU timestamps, weights beyond L2) Q8_0 gained most
// from neighbouring invocations reading neighbouring words (its 34-byte
// blocks leave words unaligned: an LM head 640→262144 ran 220 µs at 1, 149
// at 4); Q4_K, Q5_K and Q6_K from halves (gemma-2-2b's Q4_K down 9216→2304:
// 44 → 29 µs, its LM head 624 → 386); Q5_0 and Q4_0 ran fastest whole but
// over an LM head's rows (Q5_0 640→262144: 196 → 158 µs at 4).
func gemvParts(t dtype.DType, n int) int {
	p := 1
	switch {
	case gemvPartsFixed > 0:
		p = gemvPartsFixed
	case t == dtype.Q8_0:
		p = 4
	case t == dtype.Q4_K, t == dtype.Q5_K, t == dtype.Q6_K:
		p = 2
	case n >= gemvHeadRows:
		p = 4
	}
	return min(p, gemvMaxParts(t))
}

// gemvPartsQ8 is WP for weights of type t against 8-bit activations. On
// the H100 (TestBenchGEMV) whole units ran fastest, but for Q8_0 (an LM head
// 640→262144 at 8 lanes: 81.6 µs at 1, 80.0 at 2, 85.0 at 4): gemma-2-2b's
// Q4_K LM head 213 → 171 µs (WP 2 → 1), its Q6_K one 387 → 354,
// gemma-3-270m's Q5_0 one 125 → 103.
func gemvPartsQ8(t dtype.DType) int {
	switch {
	case gemvPartsFixed > 0:
		return min(gemvPartsFixed, gemvMaxParts(t))
	case t == dtype.Q8_0:
		return 2
	}
	return 1
}

// gemvHeadLanesQ8 is RS for an LM head of type t over rows of units
// units against 8-bit activations: fewer lanes than the float path's 16,
// each taking more units, as few rows share the reduction's cost. On the
// H100 (TestBenchGEMV): gemma-3-270m's Q5_0 head 640→262144 103 µs at 16,
// 74 at 8, 62 at 4; its Q8_0 one 85 at 16, 80 at 8, 83 at 4; gemma-2-2b's
// Q4_K head 2304→256000 171 at 16, 166 at 8, 176 at 4, its Q6_K one 353 at
// 16, 313 at 8.
func gemvHeadLanesQ8(t dtype.DType, units int) int {
	if units <= 32 && gemvPartsQ8(t) == 1 {
		return 4
	}
	return 8
}

// gemvHeadRows is the output count from which a GEMV is taken for an LM
// head (vocabulary-sized).
const gemvHeadRows = 1 << 16

// gemvActRows is TR for rows activation rows: 1 for a single row (decode
// of one sequence: a scalar accumulator and a quarter of the reduction's
// shuffles), else 4 (each weight read once per 4 rows).
func gemvActRows(rows int) int {
	if rows == 1 {
		return 1
	}
	return 4
}

// gemvLanesFixed, when non-zero, overrides gemvLanes (kernel timing sweeps).
var gemvLanesFixed = 0

// gemvLanes is RS for n weight rows of type t of units units each. On the
// H200 (TestBenchGEMV sweeping 16–128 with each WP at our models' decode
// shapes) 32 was best or within a few percent almost everywhere; LM heads
// ran fastest at 16 (Q4_K 2304→256000: 355 µs against 386, Q8_0 640→262144:
// 125 against 149); rows of 64 units and more over few outputs at 64 (more
// lanes in flight where the grid is small: gemma-2-2b's o and down
// projections), and with the word-read types rows of 32 units and more up to
// 16384 outputs (its Q8_0 gate/up: 43 µs against 49, gemma-3-1b's Q5_0
// gate/up 48 against 57), where the vector-read types (Q4_K, Q5_K) ran
// faster at 32 (gemma-2-2b's Q4_K gate/up 36 against 41, q/k/v 11 against
// 13).
func gemvLanes(t dtype.DType, units, n int) int {
	switch {
	case gemvLanesFixed > 0:
		return gemvLanesFixed
	case n >= gemvHeadRows, units <= 16:
		return 16
	case units >= 64 && n <= 2560, units >= 32 && n <= 1<<14 && !vec4Weights[t]:
		return 64
	}
	return 32
}

// gemvGroups is the workgroup count for n weight rows of rs lanes and rows
// activation rows.
func gemvGroups(n, rows, rs int) uint32 {
	nr, tr := gemvWG/rs, gemvActRows(rows)
	return uint32((n + nr - 1) / nr * ((rows + tr - 1) / tr))
}
