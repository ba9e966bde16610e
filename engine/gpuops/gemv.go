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
// 32 was within a few percent of the best almost everywhere; vocab-sized
// outputs ran 5–30% faster at 16 (the GPU is full anyway; fewer lanes
// reduce less) and long rows over few outputs (down projections:
// 288 units, 2304 rows) 1–9% faster at 64 (more lanes in flight, shorter
// chains of dependent loads). 8 was never better than 16, 128 and 256
// never better than 64.
func gemvLanes(units, n int) int {
	switch {
	case gemvLanesFixed > 0:
		return gemvLanesFixed
	case units <= 16 || n >= 1<<16:
		return 16
	case units >= 256 && n*64 <= 1<<18:
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
