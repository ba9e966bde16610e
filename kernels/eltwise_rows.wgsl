// Row gather of activations: out[j, :] = x[idx[idx_off + j], :] for rows of
// n elements (e.g. the rows whose logits are wanted).
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<ACT>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> Out: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i >= P.n) {
        return;
    }
    let j = i / P.width;
    let src = u32(idx[P.idx_off + j]);
    Out[i] = X[src * P.width + i % P.width];
}
