//go:build js && wasm

package gpuops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/sample"
)

// TestSample draws several tokens in a row by re-encoding one prepared
// dispatch (histories and the draw's counter advance on the GPU) and
// compares each with engine/sample, the reference. Rows read the histories
// of slots given in the step buffer, in another order than the rows.
func TestSample(t *testing.T) {
	type tc struct {
		label  string
		vocab  int
		window int
		ties   bool    // logits on a coarse grid: many ties at the top-k cut
		shift  float32 // added to every logit
		p      sample.Params
	}
	cases := []tc{
		{"topk topp penalty", 1000, 16, false, 0, sample.Params{Temperature: 0.8, TopK: 40, TopP: 0.9, RepeatPenalty: 1.3, Seed: 42}},
		{"top-k 0 capped", 777, 16, false, 0, sample.Params{Temperature: 1.5, Seed: 7}},
		{"k=1", 300, 16, false, 0, sample.Params{Temperature: 0.5, TopK: 1, Seed: 1}},
		{"ties", 5000, 16, true, 0, sample.Params{Temperature: 1, TopK: 50, TopP: 0.95, RepeatPenalty: 1.1, Seed: 3}},
		{"k clamp", 2000, 16, false, 0, sample.Params{Temperature: 2, TopK: 1000, TopP: 0.5, Seed: 99}},
		// The ring wraps (5..7 prompt tokens + 4 draws > 6) but the
		// penalty looks at the last 4 only.
		{"penalty last n, ring wraps", 400, 6, false, 0, sample.Params{Temperature: 0.3, TopK: 8, RepeatPenalty: 3, RepeatLastN: 4, Seed: 11}},
		{"greedy penalty", 400, 16, false, 0, sample.Params{RepeatPenalty: 5, Seed: 11}},
		{"64-bit seed", 400, 16, false, 0, sample.Params{Temperature: 1, TopK: 100, Seed: 0xdead_0000_beef}},
		// Several blocks of the block pass (4096 logits each), the last
		// one shorter than k; coarse logits tie across blocks.
		{"tiny last block", 4100, 16, true, 0, sample.Params{Temperature: 0.5, Seed: 12}},
		{"three blocks ties", 8193, 16, true, 0, sample.Params{Temperature: 2, TopK: 300, TopP: 0.97, Seed: 13}},
		// Negative logits: a penalty multiplies them (dividing would lift
		// the repeated tokens to the top).
		{"negative logits penalized", 400, 16, false, -20, sample.Params{RepeatPenalty: 1.5}},
		{"negative logits sampled", 400, 16, false, -20, sample.Params{Temperature: 0.5, TopK: 10, RepeatPenalty: 1.5, Seed: 4}},
	}
	for vi, v := range variants(t) {
		c := opsContext(t, v)
		s, err := NewSampler(testCtx(t), c)
		require.NoError(t, err)
		if vi == 0 {
			cases = append(cases, tc{"vocab 151936", 151936, 64, false, 0, sample.Params{Temperature: 0.7, TopK: 40, TopP: 0.95, RepeatPenalty: 1.1, Seed: 5}})
		}
		for _, tc := range cases {
			r := rand.New(rand.NewPCG(31, uint64(tc.vocab)))
			const rows, slots = 2, 3
			rowSlot := []int32{2, 0} // row r samples for slot rowSlot[r]
			logits := randFloats(r, rows*tc.vocab, 4)
			if tc.ties {
				for i := range logits {
					logits[i] = float32(math.Round(float64(logits[i])))
				}
			}
			for i := range logits {
				logits[i] += tc.shift
			}
			logits = roundAct(v.prec, logits)
			seqs := make([][]int32, slots) // each slot's whole sequence, the CPU's history
			var histAll []int32
			for slot := range seqs {
				seqs[slot] = make([]int32, 5+slot)
				for i := range seqs[slot] {
					// A small id range so penalized tokens reach the top.
					seqs[slot][i] = int32(r.IntN(min(tc.vocab, 30)))
				}
				histAll = append(histAll, NewHistory(tc.window, seqs[slot])...)
			}
			bufs := newBuffers(t, c)
			hb := bufs.raw(i32Bytes(histAll))
			const slotOff, outOff = 1, 4
			step := make([]int32, outOff+rows)
			copy(step[slotOff:], rowSlot)
			sb := bufs.raw(i32Bytes(step))
			cfg, err := s.NewConfig(tc.vocab, tc.window)
			require.NoError(t, err)
			require.NoError(t, cfg.SetParams(tc.p))
			d, err := s.Prepare(cfg, bufs.act(logits).Binding(), hb.Binding(), sb.Binding(), rows, slotOff, outOff)
			require.NoError(t, err)
			for draw := 0; draw < 4; draw++ {
				run(t, c, d)
				got := readI32(t, c, sb, outOff+rows)[outOff:]
				for row := 0; row < rows; row++ {
					slot := rowSlot[row]
					want, margin := sample.SampleMargin(tc.p, logits[row*tc.vocab:(row+1)*tc.vocab], seqs[slot])
					if margin > 2e-5 { // f32 exp may differ by a few ulps (~3e-6 of the sums)
						require.Equal(t, want, got[row], "%v %s draw %d row %d", v, tc.label, draw, row)
					} else {
						t.Logf("%v %s draw %d row %d: margin %.2g too close to call (cpu %d gpu %d)", v, tc.label, draw, row, margin, want, got[row])
					}
					seqs[slot] = append(seqs[slot], got[row])
				}
			}
			var wantHist []int32
			for _, q := range seqs {
				wantHist = append(wantHist, NewHistory(tc.window, q)...)
			}
			require.Equal(t, wantHist, readI32(t, c, hb, len(histAll)), "%v %s history", v, tc.label)
			d.Release()
			cfg.Release()
		}
	}
}

// SetParams refuses plain greedy decoding (Argmax's job).
func TestSampleRejectsGreedy(t *testing.T) {
	c := opsContext(t, variants(t)[0])
	s, err := NewSampler(testCtx(t), c)
	require.NoError(t, err)
	cfg, err := s.NewConfig(10, 4)
	require.NoError(t, err)
	defer cfg.Release()
	require.ErrorContains(t, cfg.SetParams(sample.Params{}), "Argmax")
	require.NoError(t, cfg.SetParams(sample.Params{RepeatPenalty: 1.2}))
}
