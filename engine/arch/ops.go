package arch

import "github.com/doppler-engine/doppler/engine/model"

// Tensor is an opaque handle made by a backend: CPU memory for the reference,
// a GPU buffer (or a not-yet-computed value in a recorded plan) for WebGPU.
// Shapes are row-major, outermost first ([rows, hidden], [rows, heads, dim]),
// except weights, which keep ggml's order (Shape[0] innermost) as stored.
type Tensor interface {
	Shape() []int
}

// Activation of a gated feed-forward: act(gate) * up.
type Activation string

const (
	SiLU     Activation = "silu"      // SwiGLU (llama, qwen3, mixtral)
	GELUTanh Activation = "gelu_tanh" // GeGLU with tanh-approximated GELU (gemma*)
)

// RopeParams says how to rotate one projection.
type RopeParams struct {
	Style model.RopeStyle
	Dim   int     // rotated dims per head (≤ head dim; the rest pass through)
	Theta float64 // base
	// Factors, when non-nil, divides each frequency (Dim/2 values): Llama 3's
	// scaling, stored by llama.cpp as rope_freqs.weight.
	Factors Tensor
}

// AttnParams are one layer's attention settings.
type AttnParams struct {
	Scale   float32 // multiplies q·k
	Softcap float32 // tanh(s/c)*c on the scaled scores; 0 = off
	Window  int     // sliding window: key k is visible from query q when q-k < Window; 0 = full causal
}

// MoEParams configures the router of a mixture-of-experts feed-forward.
// Routing is: p = softmax(router logits over all experts); keep the top Used
// experts (ties: lower index); if NormTopK, divide the kept p by their sum.
// Mixtral's "softmax over the top-k logits" is exactly this with NormTopK
// set; Qwen3-MoE sets it from norm_topk_prob.
type MoEParams struct {
	Used     int
	NormTopK bool
	Act      Activation
}

// Ops is the vocabulary forward passes are written in. Every op takes and
// returns handles; none returns data, so a backend may execute eagerly (the
// CPU reference) or record a dispatch list once per shape and replay it (the
// WebGPU planner). Nothing in a forward pass branches on tensor values: MoE
// routing and attention masking happen inside ops.
type Ops interface {
	// Embed gathers rows of a ggml {hidden, vocab} table for int32 ids [n] → [n, hidden].
	Embed(table, ids Tensor) Tensor
	// Scale multiplies every element by s.
	Scale(x Tensor, s float32) Tensor
	// RMSNorm normalizes over the last dimension and multiplies by w (one
	// value per element of that dimension): x / sqrt(mean(x²) + eps) * w.
	RMSNorm(x, w Tensor, eps float32) Tensor
	// MatMul multiplies [rows, in] by a ggml {in, out} weight → [rows, out].
	MatMul(x, w Tensor) Tensor
	// Reshape views x with a new shape of the same element count.
	Reshape(x Tensor, shape ...int) Tensor
	// Rope rotates x [rows, heads, headDim] at int32 positions [rows].
	Rope(x, pos Tensor, p RopeParams) Tensor
	// Attention stores k, v [rows, kvHeads, headDim] into the layer's cache at
	// the batch's positions, then attends q [rows, heads, headDim] over the
	// cached keys of each row's sequence (causal, optionally windowed), with
	// grouped-query sharing of KV heads. Returns [rows, heads*headDim].
	Attention(q, k, v Tensor, cache KV, b *Batch, p AttnParams) Tensor
	// GLU is act(gate) * up, element-wise.
	GLU(gate, up Tensor, act Activation) Tensor
	// Add is element-wise a + b (same shapes).
	Add(a, b Tensor) Tensor
	// Softcap is tanh(x/c)*c element-wise.
	Softcap(x Tensor, c float32) Tensor
	// MoE is a mixture-of-experts gated feed-forward on x [rows, hidden]:
	// router {hidden, n_expert}; gate/up {hidden, ffn, n_expert}; down {ffn, hidden, n_expert}.
	MoE(x, router, gate, up, down Tensor, p MoEParams) Tensor
	// Rows gathers rows of x [n, d] at int32 indices [m] → [m, d].
	Rows(x, idx Tensor) Tensor
}

// QKRoper is an optional op a backend may offer: a step's queries and keys
// normed per head (when qn and kn are non-nil: RMSNorm with eps) and
// rotated, as RMSNorm then Rope of each would do, in one op.
type QKRoper interface {
	RopeQK(q, k, qn, kn, pos Tensor, eps float32, p RopeParams) (Tensor, Tensor)
}

// GLUMatMuler is an optional op a backend may offer: GLU(MatMul(x, gate),
// MatMul(x, up), act) as one op.
type GLUMatMuler interface {
	MatMulGLU(x, gate, up Tensor, act Activation) Tensor
}

// QKVMatMuler is an optional op a backend may offer: MatMul(x, q),
// MatMul(x, k) and MatMul(x, v) as one op.
type QKVMatMuler interface {
	MatMulQKV(x, q, k, v Tensor) (Tensor, Tensor, Tensor)
}

// KV is one layer's key/value cache handle.
type KV interface {
	// Slots is the number of independent sequences the cache holds.
	Slots() int
	// Len is the number of positions each sequence can hold.
	Len() int
}

// Backend makes handles and runs ops.
type Backend interface {
	Ops
	// Weight makes a handle for a stored tensor from its raw bytes (any dtype
	// the backend supports; the CPU reference dequantizes to f32).
	Weight(info model.TensorInfo, raw []byte) (Tensor, error)
	// Floats makes a constant f32 tensor (e.g. computed RoPE factors).
	Floats(data []float32, shape ...int) Tensor
	// Ints makes an int32 input tensor (token ids, positions, slots).
	Ints(data []int32, shape ...int) Tensor
	// NewKV makes a cache for slots sequences of length positions.
	NewKV(slots, length, kvHeads, headDim int) KV
	// Read copies a tensor's values back as float32.
	Read(t Tensor) ([]float32, error)
}
