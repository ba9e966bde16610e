package gpuops

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGemvLanes(t *testing.T) {
	for _, tc := range []struct {
		units, n, want int
	}{
		{2, 300000, 16},  // short rows, vocab-sized output
		{16, 100, 16},    // short rows
		{20, 1024, 32},   // gemma-3-270m's q projection
		{20, 262144, 32}, // its LM head
		{72, 9216, 64},   // gemma-2-2b's gate/up
		{72, 4096, 64},   // its q, k and v projections
		{64, 2304, 64},   // its o projection
		{288, 2304, 64},  // its down projection
		{72, 256000, 32}, // its LM head
		{288, 16385, 32}, // long rows over more outputs
	} {
		assert.Equal(t, tc.want, gemvLanes(tc.units, tc.n), "units %d n %d", tc.units, tc.n)
	}
	assert.Equal(t, uint32(32*3), gemvGroups(1000, 9, 8), "32 rows × 4 activation rows per group")
	assert.Equal(t, uint32(32), gemvGroups(1000, 1, 8), "one activation row: TR 1")
	assert.Equal(t, 1, gemvActRows(1))
	assert.Equal(t, 4, gemvActRows(2))
}
