//go:build js && wasm

package gpuops

import (
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/require"
)

// Q4_K and Q5_K kernels read 16-byte vectors: a part that does not start
// on one is refused, other types only need an even offset.
func TestWeightPartAlignment(t *testing.T) {
	c := opsContext(t, variants(t)[0])
	bufs := newBuffers(t, c)
	buf := bufs.empty(4096)
	for _, tc := range []struct {
		typ    dtype.DType
		offset uint64
		ok     bool
	}{{dtype.Q4_K, 2, false}, {dtype.Q5_K, 6, false}, {dtype.Q4_K, 4, false}, {dtype.Q5_K, 40, false},
		{dtype.Q4_K, 16, true}, {dtype.Q5_K, 48, true}, {dtype.Q8_0, 2, true}} {
		w := Weight{DType: tc.typ, In: 256, Out: 2, Parts: []WeightPart{{Buffer: buf, Offset: tc.offset, Rows: 2}}}
		_, err := c.chunks(w)
		if tc.ok {
			require.NoError(t, err, "%v at %d", tc.typ, tc.offset)
		} else {
			require.ErrorContains(t, err, "not 16-byte aligned", "%v at %d", tc.typ, tc.offset)
		}
	}
}
