package gpuops

// attnRopeParams are attention.wgsl's parameters with attention_qk_rope.wgsl's
// (rope_qk.wgsl's): the decode attention that norms and rotates q and k.
type attnRopeParams struct {
	attnParams
	Half uint32  `wgsl:"half"` // rotated pairs
	Neox uint32  `wgsl:"neox"`
	Norm uint32  `wgsl:"norm"` // 1: RMS-norm each head first
	Eps  float32 `wgsl:"eps"`
}

// withRope is p with the rotation of half pairs (NeoX style or adjacent)
// and, with norm, the heads' RMSNorm of epsilon eps.
func (p attnParams) withRope(half int, neox, norm bool, eps float32) attnRopeParams {
	r := attnRopeParams{attnParams: p, Half: uint32(half), Eps: eps}
	if neox {
		r.Neox = 1
	}
	if norm {
		r.Norm = 1
	}
	return r
}
