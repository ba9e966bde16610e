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

// A prompt chunk padded to its graph's rows: each sequence's tokens come
// first, padding reads token 0 at the positions after them, and the row
// read out is the last real one.
func TestStepLayoutPadded(t *testing.T) {
	l := stepLayout{B: 2, T: 8, R: 1, Sample: true}
	data := make([]int32, l.size())
	l.fill(data, []int32{11, 12, 13, 21, 22, 23}, []int{4, 0}, []int{1, 0})
	assert.Equal(t, []int32{11, 12, 13, 0, 0, 0, 0, 0, 21, 22, 23, 0, 0, 0, 0, 0}, data[:16])
	assert.Equal(t, []int32{4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6, 7}, data[l.posOff(0):l.posOff(0)+16])
	assert.Equal(t, []int32{2, 10}, data[l.outOff(0):l.outOff(0)+2])
	assert.True(t, l.picksRows(0))
	assert.False(t, stepLayout{B: 2, T: 8, R: 1, All: true}.picksRows(0))
	assert.False(t, stepLayout{B: 2, T: 1, R: 4, Sample: true}.picksRows(0))
}

func TestPromptRows(t *testing.T) {
	for _, tt := range []struct{ t, chunk, room, want int }{
		{1, 512, 4096, 1},     // one row: the decode kernels' shape
		{2, 512, 4096, 8},     // at least 8
		{8, 512, 4096, 8},     // exact
		{9, 512, 4096, 16},    // the next power of two
		{300, 512, 4096, 512}, // up to the chunk
		{300, 400, 4096, 400}, // a chunk that is no power of two
		{300, 512, 500, 300},  // padding would pass the cache's end
		{300, 512, 512, 512},  // it ends at the cache's end
		{512, 512, 512, 512},  // full chunks are never padded
		{100, 170, 4096, 128}, // a batch's share of the rows
		{171, 170, 4096, 171}, // never fewer rows than t
	} {
		assert.Equal(t, tt.want, promptRows(tt.t, tt.chunk, tt.room), "%+v", tt)
	}
}

func TestSessionLength(t *testing.T) {
	for _, tt := range []struct{ need, have, context, want int }{
		{20, 0, 0, 512},          // at least 512
		{513, 0, 0, 1024},        // a power of two
		{1500, 1024, 8192, 2048}, // growing from a session of 1,024
		{600, 2048, 8192, 2048},  // (callers keep one long enough)
		{3000, 0, 2500, 3000},    // never past the context, but the need
		{2100, 0, 2500, 2500},    // up to the context
		{2048, 0, 4096, 2048},    // exact
	} {
		assert.Equal(t, tt.want, sessionLength(tt.need, tt.have, tt.context), "%+v", tt)
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
