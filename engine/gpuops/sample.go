package gpuops

import (
	"math"
	"sort"
)

// MaxTopK is the most candidates GPU sampling keeps (one per invocation of
// its workgroup).
const MaxTopK = 256

// SampleParams configure stochastic sampling; greedy decoding (temperature
// 0) uses Argmax instead.
//
// The algorithm, identical in SampleCPU and sample.wgsl, per row:
//  1. penalize: a logit whose token is among the last Window tokens of the
//     row's history is divided by RepeatPenalty when positive, multiplied
//     otherwise (once per distinct token);
//  2. keep the top K logits, K = TopK clamped to [1, min(MaxTopK, vocab)]
//     (0 = the maximum), ordered by value then lower index;
//  3. w_j = exp((v_j - v_0) / Temperature) in f32, summed in order;
//  4. top-p (0 < TopP < 1): keep the shortest prefix whose sum ≥ TopP·total;
//  5. u = (h >> 8) / 2^24 with h = pcg(pcg(pcg(Seed) ^ n) ^ row), n the
//     number of tokens in the row's history, pcg the PCG-RXS-M-XS hash;
//     pick the first j whose running sum exceeds u · kept sum;
//  6. append the token to the history.
type SampleParams struct {
	Temperature   float32
	TopK          int
	TopP          float32
	RepeatPenalty float32
	Seed          uint32
}

// sampleK is the number of candidates kept for a vocabulary.
func (p SampleParams) sampleK(vocab int) int {
	k := p.TopK
	limit := min(MaxTopK, vocab)
	if k <= 0 || k > limit {
		k = limit
	}
	return k
}

func (p SampleParams) uniform(vocab int) sampleUniform {
	pen := p.RepeatPenalty
	if pen <= 0 {
		pen = 1
	}
	topP := p.TopP
	if topP <= 0 || topP > 1 {
		topP = 1
	}
	temp := p.Temperature
	if temp <= 0 {
		temp = 1
	}
	return sampleUniform{Temperature: temp, TopP: topP, Penalty: pen, Seed: p.Seed, K: uint32(p.sampleK(vocab))}
}

// pcgHash is the PCG-RXS-M-XS 32-bit hash the sampler's RNG is built on.
func pcgHash(x uint32) uint32 {
	s := x*747796405 + 2891336453
	w := ((s >> ((s >> 28) + 4)) ^ s) * 277803737
	return (w >> 22) ^ w
}

// sampleUniformDraw is step 5's u for history count n of row.
func sampleUniformDraw(seed, n, row uint32) float32 {
	h := pcgHash(pcgHash(pcgHash(seed)^n) ^ row)
	return float32(h>>8) / 16777216
}

// NewHistory returns a row's sampling history of the given window holding
// tokens (the prompt, say): [count, ring of window tokens].
func NewHistory(window int, tokens []int32) []int32 {
	h := make([]int32, window+1)
	for _, t := range tokens {
		if window > 0 {
			h[1+int(h[0])%window] = t
		}
		h[0]++
	}
	return h
}

// SampleCPU is the CPU reference of GPU sampling for one row of logits (as
// stored in the activation buffer) and its history (updated). It also
// returns the decision margin: how close the draw and the top-p cut came to
// a boundary, relative to the sums (f32 exp may differ in the last bits
// between CPU and GPU, so tests only expect equal tokens when the margin is
// clear).
func SampleCPU(logits []float32, hist []int32, row int, p SampleParams) (int32, float64) {
	up := p.uniform(len(logits))
	window := len(hist) - 1
	l := make([]float32, len(logits))
	copy(l, logits)
	if up.Penalty != 1 && window > 0 {
		n := min(int(max(hist[0], 0)), window)
		seen := map[int32]bool{}
		for _, t := range hist[1 : 1+n] {
			if seen[t] || t < 0 || int(t) >= len(l) {
				continue
			}
			seen[t] = true
			if l[t] > 0 {
				l[t] /= up.Penalty
			} else {
				l[t] *= up.Penalty
			}
		}
	}
	idx := make([]int, len(l))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		va, vb := l[idx[a]], l[idx[b]]
		return va > vb || va == vb && idx[a] < idx[b]
	})
	k := int(up.K)
	m := l[idx[0]]
	w := make([]float32, k)
	var total float32
	for j := 0; j < k; j++ {
		w[j] = float32(math.Exp(float64((l[idx[j]] - m) / up.Temperature)))
		total += w[j]
	}
	margin := math.Inf(1)
	n, kept := k, total
	if up.TopP < 1 {
		var c float32
		for j := 0; j < k; j++ {
			c += w[j]
			d := float64(c - up.TopP*total)
			margin = math.Min(margin, math.Abs(d)/float64(total))
			if c >= up.TopP*total {
				n, kept = j+1, c
				break
			}
		}
	}
	count := uint32(max(hist[0], 0))
	u := sampleUniformDraw(up.Seed, count, uint32(row))
	target := u * kept
	pick := n - 1
	var c float32
	for j := 0; j < n; j++ {
		c += w[j]
		margin = math.Min(margin, math.Abs(float64(c-target))/float64(kept))
		if c > target {
			pick = j
			break
		}
	}
	tok := int32(idx[pick])
	if window > 0 {
		hist[1+int(count)%window] = tok
	}
	hist[0] = int32(count + 1)
	return tok, margin
}
