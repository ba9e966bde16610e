package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStepLayout(t *testing.T) {
	for _, tt := range []struct {
		name string
		lay  stepLayout
	}{
		{"prefill", stepLayout{B: 1, T: 5, R: 1, Sample: true}},
		{"decode batch", stepLayout{B: 3, T: 1, R: 4, Sample: true}},
		{"logits all", stepLayout{B: 2, T: 3, R: 1, All: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.lay
			data := make([]int32, l.size())
			tokens := make([]int32, l.rows(0))
			for i := range tokens {
				tokens[i] = int32(100 + i)
			}
			start := []int{7, 0, 3}[:l.B]
			slots := []int{2, 0, 1}[:l.B]
			l.fill(data, tokens, start, slots)
			assert.Equal(t, tokens, data[:l.rows(0)])
			// Sampled tokens of region r land where region r+1 reads.
			for r := 0; r < l.R; r++ {
				assert.Equal(t, l.tokOff(r)+l.rows(r), l.tokOff(r+1), "region %d", r)
			}
			seen := 0
			for r := 0; r < l.R; r++ {
				rt := l.t(r)
				for b := 0; b < l.B; b++ {
					for i := 0; i < rt; i++ {
						assert.Equal(t, int32(start[b]+seen+i), data[l.posOff(r)+b*rt+i])
					}
					assert.Equal(t, int32(slots[b]), data[l.slotOff(r)+b])
					assert.Equal(t, int32(b*rt+rt-1), data[l.outOff(r)+b])
				}
				seen += rt
			}
			assert.Equal(t, l.outOff(l.R-1)+l.B, l.size())
		})
	}
}

// Each mode is its own graph key, and names itself in labels and errors.
func TestStepLayoutString(t *testing.T) {
	for _, tt := range []struct {
		lay  stepLayout
		want string
	}{
		{stepLayout{B: 1, T: 5, R: 1}, "B=1 T=5 R=1 last"},
		{stepLayout{B: 2, T: 3, R: 1, All: true}, "B=2 T=3 R=1 all"},
		{stepLayout{B: 3, T: 1, R: 4, Sample: true}, "B=3 T=1 R=4 sample"},
		{stepLayout{B: 3, T: 1, R: 4, Sample: true, Draw: true}, "B=3 T=1 R=4 draw"},
	} {
		assert.Equal(t, tt.want, tt.lay.String())
	}
}

func TestLayerOf(t *testing.T) {
	assert.Equal(t, 3, layerOf("blk.3.attn_q.weight"))
	assert.Equal(t, 12, layerOf("blk.12.ffn_norm.weight"))
	assert.Equal(t, -1, layerOf("output.weight"))
	assert.Equal(t, -1, layerOf("blk.x"))
}

func TestContextErrorMessage(t *testing.T) {
	assert.EqualError(t, &ContextError{Tokens: 5000, Context: 2048}, "prompt of 5000 tokens exceeds the context of 2048: shorten it or raise --context")
	assert.ErrorIs(t, &lostError{reason: "destroyed"}, ErrDeviceLost)
}
