package synth

// rng is a PCG-XSH-RR-style generator on 64-bit state (O'Neill's
// pcg32): integer-only, so its stream is identical on every platform and
// Go version. Normal-ish values use the Irwin–Hall sum of uniforms (adds
// and multiplies only, no transcendental functions whose last bits could
// differ between architectures).
type rng struct{ state, inc uint64 }

const pcgMult = 6364136223846793005

func newRNG(seed, stream uint64) *rng {
	r := &rng{inc: stream<<1 | 1}
	r.next()
	r.state += seed
	r.next()
	return r
}

func (r *rng) next() uint32 {
	old := r.state
	r.state = old*pcgMult + r.inc
	xorshifted := uint32(((old >> 18) ^ old) >> 27)
	rot := uint32(old >> 59)
	return xorshifted>>rot | xorshifted<<((-rot)&31)
}

// uniform returns a float64 in [0, 1) with 32 random bits.
func (r *rng) uniform() float64 { return float64(r.next()) / (1 << 32) }

// normal returns an approximately standard normal value: the sum of 12
// uniforms minus 6 has mean 0 and variance 1.
func (r *rng) normal() float64 {
	s := 0.0
	for i := 0; i < 12; i++ {
		s += r.uniform()
	}
	return s - 6
}

// fnv64 hashes a tensor name into a stream id, so each tensor's values
// depend only on the seed and its name, not on generation order.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
