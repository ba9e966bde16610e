package safetensors

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/dtype"
)

func TestGGML(t *testing.T) {
	cases := []struct {
		dt   string
		want dtype.DType
		ok   bool
	}{
		{"F32", dtype.F32, true}, {"F16", dtype.F16, true}, {"BF16", dtype.BF16, true},
		{"I32", dtype.I32, true}, {"U8", 0, false}, {"F8_E4M3", 0, false},
	}
	for _, c := range cases {
		got, err := Tensor{Name: "w", DType: c.dt}.GGMLType()
		if !c.ok {
			require.Error(t, err, c.dt)
			assert.Contains(t, err.Error(), `tensor "w": dtype `+c.dt+" has no ggml equivalent")
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
		bits, _ := DTypeBits(c.dt)
		assert.EqualValues(t, bits/8, got.TypeSize(), "same element width")
	}
	assert.Equal(t, []int64{256, 512}, Tensor{Shape: []int64{512, 256}}.GGMLShape())
	assert.Equal(t, []int64{}, Tensor{Shape: []int64{}}.GGMLShape())
}
