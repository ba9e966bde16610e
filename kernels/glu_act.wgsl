// glu_act is a gated feed-forward's activation of its gate: SiLU (P.act 0)
// or tanh-GELU (1). Shared by eltwise_glu.wgsl, matmul_glu.wgsl and the
// tiled matmuls' GLU (matmul_tile.wgsl).
fn glu_act(x: f32) -> f32 {
    if (P.act == 0u) {
        return x / (1.0 + exp(-x));
    }
    // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), without the cancellation of
    // 1 + tanh(u) for negative u; the clamp keeps exp finite.
    let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
    return x / (1.0 + exp(clamp(-2.0 * u, -80.0, 80.0)));
}
