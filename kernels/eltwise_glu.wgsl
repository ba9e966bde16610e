// out[i] = act(gate[i]) * up[i]; act = SiLU (P.act 0) or tanh-GELU (1).
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> G: array<ACT>;
@group(0) @binding(2) var<storage, read> U: array<ACT>;
@group(0) @binding(3) var<storage, read_write> Out: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i >= P.n) {
        return;
    }
    let x = f32(G[i]);
    var a: f32;
    if (P.act == 0u) {
        a = x / (1.0 + exp(-x));
    } else {
        // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), without the cancellation of
        // 1 + tanh(u) for negative u; the clamp keeps exp finite.
        let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
        a = x / (1.0 + exp(clamp(-2.0 * u, -80.0, 80.0)));
    }
    Out[i] = ACT(a * f32(U[i]));
}
