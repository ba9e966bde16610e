package gpuops

// The decode GEMVs (kernels/matmul.wgsl, matmul_glu.wgsl, matmul_qkv.wgsl)
// give each weight row RS invocations that stride over its units, NR =
// 256 / RS rows per workgroup, and TR activation rows.
const (
	gemvWG      = 256
	gemvActRows = 4
)

// gemvLanesFixed, when non-zero, overrides gemvLanes (kernel timing sweeps).
var gemvLanesFixed = 0

// gemvLanes is RS for n weight rows of units units each. On the H200
// (TestBenchKernels sweeping 8–256 at our models' decode shapes, same run)
// 32 was best or within a few percent almost everywhere, LM heads included
// (Q8_0 over 262144 rows: 1.6× faster than at 16); rows of 64 units and more
// over at most 4096 outputs ran up to 1.7× faster at 64 (an o projection
// 2048→2304: 23 µs against 39): more lanes in flight where the grid is
// small. 8 never won, 128 and 256 never beat 64.
func gemvLanes(units, n int) int {
	switch {
	case gemvLanesFixed > 0:
		return gemvLanesFixed
	case units <= 16:
		return 16
	case units >= 64 && n*64 <= 1<<18:
		return 64
	}
	return 32
}

// gemvGroups is the workgroup count for n weight rows of rs lanes and rows
// activation rows.
func gemvGroups(n, rows, rs int) uint32 {
	nr := gemvWG / rs
	return uint32((n + nr - 1) / nr * ((rows + gemvActRows - 1) / gemvActRows))
}
