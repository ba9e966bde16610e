// Activation rows as 8-bit integers (q8_quads.wgsl's layout, row r's
// words from r·(k/4 + k/8) on) in a launch of their own: a decode GEMV's
// row that no norm quantized as it wrote it (norm_q8.wgsl), or a prompt
// chunk's rows for the integer tiled matmul (matmul_tiled_q8.wgsl). One
// invocation per quad; a row takes ⌈k/1024⌉ workgroups.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<ACT4>;
@group(0) @binding(2) var<storage, read_write> QO: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let nq = P.k / 4u;
    let per = (nq + 255u) / 256u;
    let g = wid.x + wid.y * nwg.x;
    let r = g / per;
    if (r >= max(P.rows, 1u)) {
        return; // whole workgroups: q8_quad's barriers stay uniform
    }
    let j = (g % per) * 256u + lid;
    let live = j < nq;
    let v = select(vec4<f32>(0.0), vec4<f32>(X[r * nq + min(j, nq - 1u)]), live);
    q8_quad(lid, j, v, live, P.k, r * (nq + nq / 2u));
}
