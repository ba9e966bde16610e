//go:build js && wasm

package runtime

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gpuops"
)

func TestSpan(t *testing.T) {
	for _, tc := range []struct {
		length, end, want int
	}{
		{4096, 1, 256},
		{4096, 256, 256},
		{4096, 257, 512},
		{4096, 2048, 2048},
		{4096, 2049, 0}, // the next span is the whole cache
		{641, 600, 0},   // the bench's session: a span would not be shorter
		{300, 100, 256},
		{256, 100, 0},
	} {
		s := &Session{length: tc.length}
		assert.Equal(t, tc.want, s.span(tc.end), "length %d, end %d", tc.length, tc.end)
	}
}

// A generation in a session much longer than its history records a decode
// graph per span as its positions grow (each splitting only the keys its
// rows can reach) and still gives llama.cpp's greedy tokens, with both
// decode attention kernels.
func TestDecodeSpans(t *testing.T) {
	defer func(v int) { spanMin, gpuops.AttnGroupedFixed = v, 0 }(spanMin)
	spanMin = 8
	m := loadStories(t, "f32")
	for _, grouped := range []int{-1, 1} {
		t.Run(fmt.Sprintf("grouped%d", grouped), func(t *testing.T) {
			gpuops.AttnGroupedFixed = grouped
			s, err := m.NewSession(1, 256)
			require.NoError(t, err)
			defer s.Close()
			res, err := s.Generate(testCtx(t), [][]int32{storiesPrompt}, GenOptions{MaxTokens: 32, StepsPerSubmit: 4})
			require.NoError(t, err)
			assert.Equal(t, storiesGreedy, res[0].Tokens)
			var spans []int
			groups := map[int]uint32{} // the first attention launch's workgroups by span
			for lay, g := range s.graphs {
				if lay.T != 1 || !lay.Sample {
					continue
				}
				spans = append(spans, lay.Span)
				for _, it := range g.rec.items {
					if strings.HasSuffix(it.entry.Op, "attention") {
						groups[lay.Span] = it.d.Steps[0].X * it.d.Steps[0].Y
						break
					}
				}
			}
			slices.Sort(spans)
			// Positions 5..36 in steps of 4: spans of 16, 32 and 64.
			require.Equal(t, []int{16, 32, 64}, spans)
			// Splits are whole tiles for the grouped kernel (32 keys).
			assert.LessOrEqual(t, groups[16], groups[32], "a longer span, no fewer splits")
			assert.Less(t, groups[16], groups[64], "a longer span, more splits")
		})
	}
}
