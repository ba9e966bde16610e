// Package runtime runs models on WebGPU: it implements arch.Backend over the
// kernels of engine/gpuops, loads weights tensor by tensor into GPU buffers
// (kept packed), holds the KV caches, and drives prefill, decode and
// batched decode for one or several sequences.
//
// # Graph capture
//
// The first time a step shape is seen (sequences B, rows per sequence T,
// decode steps per submission R, logits or GPU sampling), the model's Forward
// runs against the backend in recording mode: every op allocates its output
// from an arena and prepares a gpuops.Dispatch (pipeline, bind groups,
// static uniforms) instead of running. Per-step values (token ids,
// positions, cache slots, wanted rows) are not baked in: the batch's tensors
// point into one "step" buffer that kernels read at fixed element offsets.
// Later steps of that shape write the step buffer once and replay the
// recorded dispatch list through one JS call (replay.js).
//
// The capture stays valid because Forward has no data-dependent Go control
// flow (see engine/arch): given the same B, T and output mode it calls the
// same ops on the same weights in the same order, and everything that varies
// between steps lives in buffers the kernels read. The KV caches are
// allocated at capture and reused, so replayed attention sees the same
// cache buffers. The GPU sampler (argmax when greedy, else engine/sample's
// algorithm through gpuops.Sampler, whose parameters the session sets per
// request and whose per-slot histories start as each request's prompt)
// writes each step's token into the step buffer where the next recorded
// step's Embed reads it, so R decode steps run back to back in one
// submission and the tokens come back in one read; logits are never read
// back while generating.
//
// Mixture-of-experts layers record as one gpuops.MoE dispatch group: the
// router's top-k choices and weights stay in GPU scratch and the expert
// GEMVs read the chosen experts' rows through them, so routing is data on
// the GPU, not Go control flow, and MoE steps replay like dense ones.
// Recording fuses a residual add into the norm that follows it
// (rmsnorm_add) and Gemma's embedding scale into the gather.
//
// TaskGenerator runs engine/tasks (summaries, chat) on a loaded model.
//
// The WebGPU parts build for js/wasm only; Plan, errors and the step-buffer
// layout build everywhere.
package runtime
