// Sampling, pass 1: S[t] = logits[t] as f32 for every row (the penalty pass
// then rewrites the logits of the tokens in each row's history).
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> L: array<ACT>;
@group(0) @binding(2) var<storage, read_write> S: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    if (t >= P.rows * P.vocab) {
        return;
    }
    S[t] = f32(L[t]);
}
