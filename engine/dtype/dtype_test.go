package dtype

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRowBytes(t *testing.T) {
	cases := []struct {
		d       DType
		n       int64
		want    int64
		wantErr bool
	}{
		{F32, 10, 40, false},
		{F16, 3, 6, false},
		{BF16, 4, 8, false},
		{Q8_0, 64, 68, false},
		{Q4_0, 32, 18, false},
		{Q4_K, 256, 144, false},
		{Q5_K, 512, 352, false},
		{Q6_K, 256, 210, false},
		{Q4_K, 255, 0, true},
		{F32, -1, 0, true},
		{F32, math.MaxInt64 / 2, 0, true},
		{DType(99), 1, 0, true},
	}
	for _, c := range cases {
		got, err := c.d.RowBytes(c.n)
		if c.wantErr {
			assert.Error(t, err, "%s %d", c.d, c.n)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%s %d", c.d, c.n)
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"q4_k", "Q4_K", " f16 ", "bf16"} {
		d, err := Parse(s)
		require.NoError(t, err)
		assert.True(t, d.Known())
	}
	_, err := Parse("q4_k_m")
	assert.Error(t, err)
	assert.Equal(t, "Q6_K", Q6_K.String())
	assert.Equal(t, "dtype(99)", DType(99).String())
}
