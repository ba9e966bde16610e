package gpuops

// attnRopeParams are attention.wgsl's parameters with attention_qk_rope.wgsl's
// (rope_qk.wgsl's): the decode attention that norms and rotates q and k.
type attnRopeParams struct {
	Rows     uint32  `wgsl:"rows"`
	T        uint32  `wgsl:"t"`
	Heads    uint32  `wgsl:"heads"`
	KVHeads  uint32  `wgsl:"kv_heads"`
	HeadDim  uint32  `wgsl:"head_dim"`
	CacheLen uint32  `wgsl:"cache_len"`
	Window   uint32  `wgsl:"window"`
	Splits   uint32  `wgsl:"splits"`
	SplitLen uint32  `wgsl:"split_len"`
	PosOff   uint32  `wgsl:"pos_off"`
	SlotOff  uint32  `wgsl:"slot_off"`
	Scale    float32 `wgsl:"scale"`
	Softcap  float32 `wgsl:"softcap"`
	Fresh    uint32  `wgsl:"fresh"`
	Half     uint32  `wgsl:"half"` // rotated pairs
	Neox     uint32  `wgsl:"neox"`
	Norm     uint32  `wgsl:"norm"` // 1: RMS-norm each head first
	Eps      float32 `wgsl:"eps"`
}

// withRope is p with the rotation of half pairs (NeoX style or adjacent)
// and, with norm, the heads' RMSNorm of epsilon eps.
func (p attnParams) withRope(half int, neox, norm bool, eps float32) attnRopeParams {
	r := attnRopeParams{Rows: p.Rows, T: p.T, Heads: p.Heads, KVHeads: p.KVHeads, HeadDim: p.HeadDim, CacheLen: p.CacheLen,
		Window: p.Window, Splits: p.Splits, SplitLen: p.SplitLen, PosOff: p.PosOff, SlotOff: p.SlotOff, Scale: p.Scale,
		Softcap: p.Softcap, Fresh: p.Fresh, Half: uint32(half), Eps: eps}
	if neox {
		r.Neox = 1
	}
	if norm {
		r.Norm = 1
	}
	return r
}
