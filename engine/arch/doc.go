// Package arch holds the model architectures, each written once against a
// small tensor-op interface (Ops) that two backends implement: the pure-Go
// CPU reference (engine/ref) and the WebGPU planner, which records one step's
// ops into a dispatch list per shape and replays it.
//
// A model is a struct whose fields are bound to GGUF tensor names by struct
// tags, resolved once by Load (see bind.go), and whose Forward reads like
// the paper: embed, then per layer norm, project, rotate, attend, add, norm,
// feed-forward, add; then the final norm and the LM head. Forward has no
// data-dependent control flow: MoE routing, attention masks and sliding
// windows happen inside ops, so a GPU backend can record them.
//
// Weights arrive in the model package's canonical conventions (GGUF names,
// ggml shape order, norm weights as effective multipliers, Q/K rows in the
// RoPE style's order), so every architecture quirk lives here and is checked
// against HF transformers (hf_test.go) and llama.cpp (oracle_test.go):
//
//   - llama: RMSNorm, SwiGLU, "normal" RoPE; Llama 3 frequency scaling
//     (rope_freqs.weight or rope_scaling, rope.go).
//   - mixtral: llama with a top-k MoE feed-forward (softmax over the kept
//     router logits).
//   - qwen3, qwen3moe: per-head q/k RMSNorm before NeoX RoPE; MoE with
//     softmax, top-k, optional renormalization (norm_topk_prob).
//   - gemma: embeddings × sqrt(hidden), GeGLU with tanh GELU.
//   - gemma2: sandwich norms, attention and final logit softcaps,
//     query_pre_attn_scalar, alternating sliding-window layers.
//   - gemma3: gemma2's block with q/k norms and separate RoPE bases for
//     local (sliding) and global layers.
//
// Runner drives a model: it tracks each cache slot's length and feeds
// prefill (T tokens) or decode (T = 1) steps for one or several sequences.
package arch
