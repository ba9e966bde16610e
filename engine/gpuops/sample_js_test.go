//go:build js && wasm

package gpuops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSample draws several tokens in a row by re-encoding one prepared
// dispatch (history and RNG counter advance on the GPU) and compares each
// with SampleCPU.
func TestSample(t *testing.T) {
	type tc struct {
		label  string
		vocab  int
		window int
		ties   bool // logits on a coarse grid: many ties at the top-k cut
		p      SampleParams
	}
	cases := []tc{
		{"topk topp penalty", 1000, 8, false, SampleParams{Temperature: 0.8, TopK: 40, TopP: 0.9, RepeatPenalty: 1.3, Seed: 42}},
		{"full", 777, 0, false, SampleParams{Temperature: 1.5, Seed: 7}},
		{"k=1", 300, 4, false, SampleParams{Temperature: 0.5, TopK: 1, Seed: 1}},
		{"ties", 5000, 16, true, SampleParams{Temperature: 1, TopK: 50, TopP: 0.95, RepeatPenalty: 1.1, Seed: 3}},
		{"k clamp", 2000, 8, false, SampleParams{Temperature: 2, TopK: 1000, TopP: 0.5, Seed: 99}},
	}
	for vi, v := range variants(t) {
		c := opsContext(t, v)
		s, err := NewSampler(testCtx(t), c)
		require.NoError(t, err)
		if vi == 0 {
			cases = append(cases, tc{"vocab 151936", 151936, 64, false, SampleParams{Temperature: 0.7, TopK: 40, TopP: 0.95, RepeatPenalty: 1.1, Seed: 5}})
		}
		for _, tc := range cases {
			r := rand.New(rand.NewPCG(31, uint64(tc.vocab)))
			const rows = 2
			logits := randFloats(r, rows*tc.vocab, 4)
			if tc.ties {
				for i := range logits {
					logits[i] = float32(math.Round(float64(logits[i])))
				}
			}
			logits = roundAct(v.prec, logits)
			hists := make([][]int32, rows)
			var histAll []int32
			for row := range hists {
				prompt := make([]int32, 5+row)
				for i := range prompt {
					prompt[i] = int32(r.IntN(tc.vocab))
				}
				hists[row] = NewHistory(tc.window, prompt)
				histAll = append(histAll, hists[row]...)
			}
			bufs := newBuffers(t, c)
			hb := bufs.raw(i32Bytes(histAll))
			out := bufs.raw(i32Bytes(make([]int32, rows+3)))
			d, err := s.Prepare(bufs.act(logits).Binding(), hb.Binding(), out.Binding(), 3, rows, tc.vocab, tc.window, tc.p)
			require.NoError(t, err)
			for step := 0; step < 4; step++ {
				run(t, c, d.Dispatch)
				got := readI32(t, c, out, rows+3)[3:]
				for row := 0; row < rows; row++ {
					want, margin := SampleCPU(logits[row*tc.vocab:(row+1)*tc.vocab], hists[row], row, tc.p)
					if margin > 2e-5 { // f32 exp may differ by a few ulps (~3e-6 of the sums)
						require.Equal(t, want, got[row], "%v %s step %d row %d", v, tc.label, step, row)
					} else {
						t.Logf("%v %s step %d row %d: margin %.2g too close to call (cpu %d gpu %d)", v, tc.label, step, row, margin, want, got[row])
						// Keep the CPU history in step with the GPU's.
						if tc.window > 0 {
							hists[row][1+int(hists[row][0]-1)%tc.window] = got[row]
						}
					}
				}
			}
			gotHist := readI32(t, c, hb, len(histAll))
			var wantHist []int32
			for _, h := range hists {
				wantHist = append(wantHist, h...)
			}
			if tc.window > 0 {
				require.Equal(t, wantHist, gotHist, "%v %s history", v, tc.label)
			}
			d.Release()
		}
	}
}
