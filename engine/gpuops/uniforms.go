package gpuops

// The params structs of the kernels (binding 0 of each), in the order their
// WGSL members are generated. Field meanings are in the kernels' comments.

type embedParams struct {
	Hidden   uint32  `wgsl:"hidden"`
	Rows     uint32  `wgsl:"rows"`
	Units    uint32  `wgsl:"units"`
	RowBytes uint32  `wgsl:"row_bytes"`
	WBase    uint32  `wgsl:"wbase"`
	RowStart uint32  `wgsl:"row_start"`
	RowCount uint32  `wgsl:"row_count"`
	IdsOff   uint32  `wgsl:"ids_off"`
	Scale    float32 `wgsl:"scale"`
}

type matmulParams struct {
	K        uint32 `wgsl:"k"`
	N        uint32 `wgsl:"n"`
	Rows     uint32 `wgsl:"rows"`
	Units    uint32 `wgsl:"units"`
	RowBytes uint32 `wgsl:"row_bytes"`
	WBase    uint32 `wgsl:"wbase"`
	LdY      uint32 `wgsl:"ldy"`
	YOff     uint32 `wgsl:"yoff"`
	gemvCombineParams
}

// gemvCombineParams are a fused combine's (gemv_combine.wgsl) part of the
// plain GEMV's params.
type gemvCombineParams struct {
	Heads  uint32 `wgsl:"c_heads"`
	Dim    uint32 `wgsl:"c_dim"`
	Splits uint32 `wgsl:"c_splits"`
}

type matmulGLUParams struct {
	K        uint32 `wgsl:"k"`
	N        uint32 `wgsl:"n"`
	Rows     uint32 `wgsl:"rows"`
	Units    uint32 `wgsl:"units"`
	RowBytes uint32 `wgsl:"row_bytes"`
	WBase    uint32 `wgsl:"wbase"`
	WBase2   uint32 `wgsl:"wbase2"`
	LdY      uint32 `wgsl:"ldy"`
	YOff     uint32 `wgsl:"yoff"`
	Act      uint32 `wgsl:"act"`
	gemvNormParams
}

type matmulQKVParams struct {
	K         uint32 `wgsl:"k"`
	N         uint32 `wgsl:"n"`
	N2        uint32 `wgsl:"n2"`
	N3        uint32 `wgsl:"n3"`
	Rows      uint32 `wgsl:"rows"`
	Units     uint32 `wgsl:"units"`
	RowBytes  uint32 `wgsl:"row_bytes"`
	RowBytes2 uint32 `wgsl:"row_bytes2"`
	RowBytes3 uint32 `wgsl:"row_bytes3"`
	WBase     uint32 `wgsl:"wbase"`
	WBase2    uint32 `wgsl:"wbase2"`
	WBase3    uint32 `wgsl:"wbase3"`
	gemvNormParams
}

// gemvNormParams are a fused norm's (gemv_norm.wgsl) part of the GEMVs'
// params: eps, and 1 to multiply by 1 + w.
type gemvNormParams struct {
	NormEps float32 `wgsl:"norm_eps"`
	NormOne uint32  `wgsl:"norm_one"`
}

type normParams struct {
	N      uint32  `wgsl:"n"`
	Rows   uint32  `wgsl:"rows"`
	Eps    float32 `wgsl:"eps"`
	AddOne uint32  `wgsl:"add_one"`
}

type ropeParams struct {
	Rows    uint32 `wgsl:"rows"`
	Heads   uint32 `wgsl:"heads"`
	HeadDim uint32 `wgsl:"head_dim"`
	Half    uint32 `wgsl:"half"`
	Neox    uint32 `wgsl:"neox"`
	PosOff  uint32 `wgsl:"pos_off"`
}

type ropeQKParams struct {
	Rows    uint32  `wgsl:"rows"`
	QHeads  uint32  `wgsl:"q_heads"`
	KHeads  uint32  `wgsl:"k_heads"`
	HeadDim uint32  `wgsl:"head_dim"`
	Half    uint32  `wgsl:"half"`
	Neox    uint32  `wgsl:"neox"`
	PosOff  uint32  `wgsl:"pos_off"`
	Norm    uint32  `wgsl:"norm"`
	Eps     float32 `wgsl:"eps"`
}

type kvAppendParams struct {
	Rows     uint32 `wgsl:"rows"`
	T        uint32 `wgsl:"t"`
	KVHeads  uint32 `wgsl:"kv_heads"`
	HeadDim  uint32 `wgsl:"head_dim"`
	CacheLen uint32 `wgsl:"cache_len"`
	PosOff   uint32 `wgsl:"pos_off"`
	SlotOff  uint32 `wgsl:"slot_off"`
}

type attnParams struct {
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
}

type combineParams struct {
	Rows    uint32 `wgsl:"rows"`
	Heads   uint32 `wgsl:"heads"`
	HeadDim uint32 `wgsl:"head_dim"`
	Splits  uint32 `wgsl:"splits"`
}

type eltParams struct {
	N   uint32  `wgsl:"n"`
	Act uint32  `wgsl:"act"`
	S   float32 `wgsl:"s"`
	C   float32 `wgsl:"c"`
}

type rowsParams struct {
	N      uint32 `wgsl:"n"`
	Width  uint32 `wgsl:"width"`
	IdxOff uint32 `wgsl:"idx_off"`
}

type argmaxParams struct {
	Rows   uint32 `wgsl:"rows"`
	Vocab  uint32 `wgsl:"vocab"`
	Blocks uint32 `wgsl:"blocks"`
	OutOff uint32 `wgsl:"out_off"`
}

// argmaxBlock is argmax.wgsl's BLOCK: logits per pass-1 workgroup.
const argmaxBlock = 1024

type samplePassParams struct {
	Rows    uint32 `wgsl:"rows"`
	Vocab   uint32 `wgsl:"vocab"`
	Window  uint32 `wgsl:"window"`
	OutOff  uint32 `wgsl:"out_off"`
	SlotOff uint32 `wgsl:"slot_off"`
}

// sampleUniform is the per-request part of sampling (SampleParams in WGSL).
type sampleUniform struct {
	Temperature float32 `wgsl:"temperature"`
	TopP        float32 `wgsl:"top_p"`
	Penalty     float32 `wgsl:"penalty"`
	Seed        uint32  `wgsl:"seed"`
	K           uint32  `wgsl:"k"`
	LastN       uint32  `wgsl:"last_n"`
}

type moeRouteParams struct {
	Rows    uint32 `wgsl:"rows"`
	Experts uint32 `wgsl:"experts"`
	Used    uint32 `wgsl:"used"`
	Norm    uint32 `wgsl:"norm"`
}

type moeMatmulParams struct {
	K           uint32 `wgsl:"k"`
	N           uint32 `wgsl:"n"`
	VRows       uint32 `wgsl:"vrows"`
	XDiv        uint32 `wgsl:"x_div"`
	Units       uint32 `wgsl:"units"`
	RowBytes    uint32 `wgsl:"row_bytes"`
	ExpertBytes uint32 `wgsl:"expert_bytes"`
	WBase       uint32 `wgsl:"wbase"`
	ExpStart    uint32 `wgsl:"exp_start"`
	ExpCount    uint32 `wgsl:"exp_count"`
}

type moeCombineParams struct {
	Rows   uint32 `wgsl:"rows"`
	Hidden uint32 `wgsl:"hidden"`
	Used   uint32 `wgsl:"used"`
}

// tiledParams are matmul_tiled.wgsl's and matmul_splitk.wgsl's.
type tiledParams struct {
	K        uint32 `wgsl:"k"`
	N        uint32 `wgsl:"n"`
	Rows     uint32 `wgsl:"rows"`
	RowBytes uint32 `wgsl:"row_bytes"`
	WBase    uint32 `wgsl:"wbase"`
	LdY      uint32 `wgsl:"ldy"`
	YOff     uint32 `wgsl:"yoff"`
	Splits   uint32 `wgsl:"splits"`
	KSlice   uint32 `wgsl:"kslice"`
	WBase2   uint32 `wgsl:"wbase2"` // with GLU: the up weight's rows (W2); NW > 1: the second weight's
	Act      uint32 `wgsl:"act"`    // with GLU: the Activation
	// With NW weights (matmul_tile.wgsl): the third weight's rows (W3), and
	// where the second and third weights' outputs start among the N.
	WBase3 uint32 `wgsl:"wbase3"`
	N1     uint32 `wgsl:"n1"`
	N2     uint32 `wgsl:"n2"`
}

// quantParams are kernels/quantize_q8.wgsl's (Rows 0 is one row).
type quantParams struct {
	K    uint32 `wgsl:"k"`
	Rows uint32 `wgsl:"rows"`
}
