package gpu

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGrid(t *testing.T) {
	tests := []struct {
		n, wg, max uint32
		x, y       uint32
	}{
		{0, 64, 65535, 0, 0},
		{1, 64, 65535, 1, 1},
		{64, 64, 65535, 1, 1},
		{65, 64, 65535, 2, 1},
		{65535 * 64, 64, 65535, 65535, 1},
		{65535*64 + 1, 64, 65535, 32768, 2},
		{4_000_000_000, 256, 65535, 65377, 239},
		{10, 1, 4, 4, 3},
	}
	for _, tt := range tests {
		x, y := Grid(tt.n, tt.wg, tt.max)
		assert.Equal(t, [2]uint32{tt.x, tt.y}, [2]uint32{x, y}, "Grid(%d, %d, %d)", tt.n, tt.wg, tt.max)
		if tt.n > 0 {
			assert.LessOrEqual(t, x, tt.max)
			// Enough invocations, and not a whole row of workgroups too many.
			total := uint64(x) * uint64(y) * uint64(tt.wg)
			assert.GreaterOrEqual(t, total, uint64(tt.n))
			assert.Less(t, total-uint64(tt.n), uint64(x)*uint64(tt.wg))
		}
	}
}

func TestInfoJSON(t *testing.T) {
	info := Info{
		Adapter:  AdapterInfo{Vendor: "mesa", Description: "llvmpipe", IsFallbackAdapter: false},
		Features: []string{FeatureShaderF16, FeatureSubgroups},
		Limits:   map[string]uint64{"maxBufferSize": 1 << 32},
	}
	assert.True(t, info.HasFeature(FeatureShaderF16))
	assert.False(t, info.HasFeature("timestamp-query"))
	assert.Equal(t, uint64(1<<32), info.Limit("maxBufferSize"))
	data, err := json.Marshal(info)
	require.NoError(t, err)
	assert.JSONEq(t, `{"adapter":{"vendor":"mesa","architecture":"","device":"","description":"llvmpipe",
		"isFallbackAdapter":false},"features":["shader-f16","subgroups"],"limits":{"maxBufferSize":4294967296}}`, string(data))
	assert.Contains(t, info.String(), "llvmpipe")
}

func TestBindingTypeNames(t *testing.T) {
	assert.Equal(t, "uniform", Uniform.jsName())
	assert.Equal(t, "storage", Storage.jsName())
	assert.Equal(t, "read-only-storage", ReadOnlyStorage.jsName())
	assert.Panics(t, func() { BindingType(9).jsName() })
}

func TestAlignUp(t *testing.T) {
	assert.Equal(t, uint64(0), AlignUp(0, 4))
	assert.Equal(t, uint64(4), AlignUp(1, 4))
	assert.Equal(t, uint64(16), AlignUp(16, 16))
	assert.Equal(t, uint64(32), AlignUp(17, 16))
}
