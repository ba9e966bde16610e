package gpuops

import "github.com/doppler-engine/doppler/engine/sample"

// GPU sampling runs engine/sample's algorithm (see its package doc: the
// same steps in the same f32 arithmetic and the same counter-based draw),
// so sample.SampleMargin is its CPU reference. The GPU keeps, per cache
// slot, a history of the sequence in a buffer (see NewHistory) that the
// runtime fills with the prompt at the start of a request and the kernel
// appends each sampled token to; its count is the history length the draw
// is indexed by.

// sample.wgsl holds one candidate per invocation of a 256-wide workgroup
// (MAXK = WG = 256): this fails to compile if the cap changes.
const _ = uint(sample.MaxCandidates-256) + uint(256-sample.MaxCandidates)

// sampleBlock is the logits one workgroup of the sampler's block pass
// scans (BS in sample.wgsl): 16 per invocation, and a 262,144-token
// vocabulary spreads over 64 workgroups.
const sampleBlock = 4096

// sampleSettings is the per-request uniform of p for a vocabulary and a
// history ring of window tokens. Greedy decoding with a repetition penalty
// becomes top-k 1 over the penalized logits (the argmax, ties to the lower
// id, as engine/sample does).
func sampleSettings(p sample.Params, vocab, window int) sampleUniform {
	u := sampleUniform{Temperature: p.Temperature, TopP: 1, Penalty: 1, Seed: p.Seed32(), K: uint32(p.Candidates(vocab))}
	if p.TopP > 0 && p.TopP < 1 {
		u.TopP = p.TopP
	}
	if p.Penalized() {
		n := p.RepeatLastN
		if n <= 0 || n > window {
			n = window // 0 = all: the ring is as long as the session's context
		}
		u.Penalty, u.LastN = p.RepeatPenalty, uint32(n)
	}
	if p.Temperature <= 0 {
		u.Temperature, u.TopP, u.K = 1, 1, 1
	}
	return u
}

// NewHistory returns one slot's sampling history with a ring of window
// tokens holding tokens (a prompt, say): [count, ring], token n at
// 1 + n % window.
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
