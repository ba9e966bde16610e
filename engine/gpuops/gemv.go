package gpuops

import "fmt"

// The decode GEMVs (kernels/matmul.wgsl, matmul_glu.wgsl, matmul_qkv.wgsl)
// give each weight row RS invocations that stride over its units, NR =
// 256 / RS rows per workgroup, and TR activation rows (gemvActRows).
const gemvWG = 256

// gemvActRows is TR for rows activation rows: 1 for a single row (decode
// of one sequence: a scalar accumulator and a quarter of the reduction's
// shuffles), else 4 (each weight read once per 4 rows).
func gemvActRows(rows int) int {
	if rows == 1 {
		return 1
	}
	return 4
}

// gemvConsts are a GEMV kernel's RS and TR.
func gemvConsts(lanes, tr int) map[string]string {
	return map[string]string{"RS": fmt.Sprintf("%du", lanes), "TR": fmt.Sprintf("%du", tr)}
}

// gemvLanesFixed, when non-zero, overrides gemvLanes (kernel timing sweeps).
var gemvLanesFixed = 0

// gemvLanes is RS for n weight rows of units units each. On the H200
// (TestBenchKernels sweeping 8–256 at our models' decode shapes, same run)
// 32 was best or within a few percent almost everywhere, LM heads included
// (Q8_0 over 262144 rows: 1.5× faster than at 16); rows of 64 units and more
// over at most 16384 outputs ran up to 1.6× faster at 64 (an o projection
// 2048→2304: 23 µs against 39; gemma-2-2b's gate/up with one activation
// row: 55 against 71): more lanes in flight where the grid is small. 8
// never won, 128 and 256 never beat 64 by more than the noise.
func gemvLanes(units, n int) int {
	switch {
	case gemvLanesFixed > 0:
		return gemvLanesFixed
	case units <= 16:
		return 16
	case units >= 64 && n <= 1<<14:
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
