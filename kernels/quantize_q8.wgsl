// A decode GEMV's activation row as 8-bit integers (q8_quads.wgsl's
// layout) in a launch of its own, for a row that no norm quantized as it
// wrote it (norm_q8.wgsl). One invocation per quad.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<ACT4>;
@group(0) @binding(2) var<storage, read_write> QO: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let nq = P.k / 4u;
    let j = gid.x;
    let live = j < nq;
    q8_quad(lid, j, select(vec4<f32>(0.0), vec4<f32>(X[min(j, nq - 1u)]), live), live, P.k);
}
