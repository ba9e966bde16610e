// out[i] = tanh(x[i] / c) * c.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<ACT>;
@group(0) @binding(2) var<storage, read_write> Out: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i >= P.n) {
        return;
    }
    Out[i] = ACT(tanh(clamp(f32(X[i]) / P.c, -15.0, 15.0)) * P.c);
}
