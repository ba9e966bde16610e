// MoE output: out[r, i] = Σ_j Wt[r, j]·Y[r*used + j, i], summed in j order.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Y: array<ACT>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> Out: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    if (t >= P.rows * P.hidden) {
        return;
    }
    let r = t / P.hidden;
    let i = t % P.hidden;
    var s = 0.0;
    for (var j = 0u; j < P.used; j++) {
        s += Wt[r * P.used + j] * f32(Y[(r * P.used + j) * P.hidden + i]);
    }
    Out[t] = ACT(s);
}
