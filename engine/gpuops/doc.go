// Package gpuops holds the engine's WebGPU kernels as Go operations: one type
// per op family whose constructor compiles its pipeline once (explicit bind
// group layouts) and whose Prepare methods build, once per shape, a Dispatch
// (bind groups and a small uniform buffer of static parameters) that can be
// encoded any number of times. Values that change every step (positions,
// slots, token ids) are read by the kernels from buffers the runtime writes
// once per step, never baked into bind groups.
//
// # Using it
//
//	c, err := gpuops.NewContext(dev, gpuops.F16) // F16 needs shader-f16
//	mm, err := gpuops.NewMatMul(ctx, c, dtype.Q4_K) // one per weight dtype
//	d, err := mm.Prepare(gpuops.NewWeight(dtype.Q4_K, in, out, wbuf), x, y, rows)
//	enc := dev.NewEncoder("step"); d.Encode(enc); ...; enc.Submit()
//	d.Release() // once the GPU is done with it (destroys its uniforms/scratch)
//
// Buffers are passed as gpu.Binding (buffer, offset multiple of 256, size 0 =
// to the end). Activation buffers hold c.Prec elements (c.ActBytes(n)
// bytes), row-major, with no padding between rows. Ops never alias input
// and output bindings (WebGPU forbids a buffer bound both read-only and
// writable in one dispatch); the in-place ops say so.
//
// # Per-step values
//
// One int32 "step" buffer can hold everything that changes per step, at
// element offsets given to Prepare: token ids (Embed idsOff; Argmax and
// Sample write the next token there), positions of each row (Rope posOff,
// AttnShape.PosOff), cache slot of each sequence (AttnShape.SlotOff), row
// indices (PrepareRows idxOff). Write it with one WriteBuffer per step.
//
// # Ops (shapes outermost first)
//
//   - Embed.Prepare(table Weight, ids, idsOff, out [rows,hidden], rows, scale)
//   - RMSNorm.Prepare(x, w f32[N], out, NormParams{Rows,N,Eps,OnePlus});
//     RMSNorm.PrepareAdd(a, b, w, out, p): a += b in place, out = norm(a)*w.
//   - MatMul.Prepare(w Weight{In,Out}, x [rows,In], y [rows,Out], rows):
//     a GEMV kernel (4 weight rows × 4 activation rows per workgroup) below
//     TiledMinRows rows, a tiled kernel from there (prefill: 64×64 output
//     tiles; projections to at most as many outputs as inputs split their
//     k steps over 4 workgroups and add the partials in a second launch);
//     weights above c.MaxBinding are split into row chunks automatically.
//   - Rope.Prepare(x [rows,heads,hd] in place, pos, posOff, rows, heads, hd,
//     RopeConfig{Neox, Dim, Theta, Factors}).
//   - Attention.Prepare(q, k, v, kc, vc, step, out [rows, heads*hd],
//     AttnShape{...}): appends k, v to the caches then attends (see AttnShape
//     for the cache layout and the ring-buffer rule; head_dim ≤ 256, a
//     multiple of 4). Long caches with few query rows split the keys over
//     workgroups and add a combine pass.
//   - Eltwise: PrepareAdd, PrepareGLU (SiLU, GELUTanh), PrepareScale,
//     PrepareSoftcap, PrepareRows.
//   - Argmax.Prepare(logits [rows,vocab], out, outOff, rows, vocab).
//   - Sampler.Prepare(cfg, logits [rows,vocab], hist, step, rows, slotOff,
//     outOff): engine/sample's algorithm (penalty over the last RepeatLastN
//     tokens, top-k ≤ sample.MaxCandidates, temperature, top-p, a
//     counter-based PCG draw indexed by the history length); cfg
//     (Sampler.NewConfig, SetParams per request) is shared by any number of
//     dispatches; hist is per cache slot [count, ring of window tokens]
//     (NewHistory), appended to by the kernel; step names each row's slot.
//   - MoE.Prepare(ctx, x, out, router, gate, up, down, MoEShape): router
//     matmul, top-k routing on the GPU, GEMVs of the selected experts only
//     (gate/up {hidden, ffn·experts}, down {ffn, hidden·experts} as Weights).
//
// Activations are f32 or f16 (Precision); kernels are written once against
// the WGSL alias ACT and accumulate in f32 where precision matters. Weights
// stay packed in their GGUF dtype and are dequantized in registers.
//
// The GPU parts build for js/wasm only; uniform layouts, WGSL assembly, weight
// chunking and the CPU reference of the sampler build everywhere.
package gpuops
