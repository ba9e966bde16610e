package gpuops

import (
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/assert"
)

func TestGemvShape(t *testing.T) {
	for _, tc := range []struct {
		name         string
		typ          dtype.DType
		units, n     int
		lanes, parts int
	}{
		{"short rows, vocab-sized output", dtype.Q8_0, 2, 300000, 16, 4},
		{"short rows", dtype.Q4_0, 16, 100, 16, 1},
		{"gemma-3-270m q projection", dtype.Q8_0, 20, 1024, 32, 4},
		{"gemma-3-1b gate/up", dtype.Q5_0, 36, 6912, 64, 1},
		{"qwen3-0.6b gate/up", dtype.Q4_K, 32, 3072, 32, 2},
		{"its LM head", dtype.Q5_0, 20, 262144, 16, 4},
		{"its gate/up", dtype.Q5_0, 20, 2048, 32, 1},
		{"gemma-2-2b gate/up", dtype.Q4_K, 72, 9216, 32, 2},
		{"its q8_0 gate/up", dtype.Q8_0, 72, 9216, 64, 4},
		{"its q, k and v projections", dtype.Q4_K, 72, 4096, 32, 2},
		{"its o projection", dtype.Q4_K, 64, 2304, 64, 2},
		{"its down projection", dtype.Q6_K, 288, 2304, 64, 2},
		{"its LM head", dtype.Q4_K, 72, 256000, 16, 2},
		{"long rows over more outputs", dtype.Q4_K, 288, 16385, 32, 2},
		{"plain types: one invocation a unit", dtype.F16, 576, 9216, 64, 1},
	} {
		unit := 32
		if !tc.typ.Quantized() {
			unit = 4
		}
		s := newGemvShape(unit, tc.units, tc.n, 1, tc.typ)
		assert.Equal(t, [3]int{tc.lanes, 1, tc.parts}, [3]int{s.lanes, s.tr, s.parts}, tc.name)
		step := s.lanes / s.parts
		assert.Equal(t, (tc.units+step-1)/step, s.iters, "%s: trip count", tc.name)
		assert.GreaterOrEqual(t, s.iters*step, tc.units, "%s: every unit covered", tc.name)
		assert.Equal(t, tc.units%step == 0, s.exact, tc.name)
	}
	assert.Equal(t, 2, newGemvShape(32, 72, 4096, 1, dtype.Q8_0, dtype.Q6_K, dtype.Q8_0).parts, "the fewest parts of the weights")
	// 8-bit activations: whole units but for Q8_0; LM heads on fewer lanes.
	for _, tc := range []struct {
		typ          dtype.DType
		units, n     int
		lanes, parts int
	}{
		{dtype.Q5_0, 20, 262144, 4, 1}, {dtype.Q8_0, 20, 262144, 8, 2}, {dtype.Q4_K, 72, 256000, 8, 1},
		{dtype.Q6_K, 72, 256000, 8, 1}, {dtype.Q4_K, 288, 2304, 64, 1}, {dtype.Q8_0, 72, 9216, 64, 2},
	} {
		s := newGemvShapeQ8(32, tc.units, tc.n, 1, true, tc.typ)
		assert.Equal(t, [2]int{tc.lanes, tc.parts}, [2]int{s.lanes, s.parts}, "q8 %v %d units × %d", tc.typ, tc.units, tc.n)
	}
	assert.Equal(t, 4, newGemvShape(32, 72, 4096, 3, dtype.Q4_K).tr)
	assert.Equal(t, uint32(32*3), gemvGroups(1000, 9, 8), "32 rows × 4 activation rows per group")
	assert.Equal(t, uint32(32), gemvGroups(1000, 1, 8), "one activation row: TR 1")
	assert.Equal(t, 1, gemvActRows(1))
	assert.Equal(t, 4, gemvActRows(2))
}
