// 8-bit activations for the GEMVs that dot them four at a time
// (wdot_*_q8.wgsl): per block of 32, x ≈ d·q with d = max|x| / 127, as
// llama.cpp quantizes activations. QO holds, for a row of n elements (a
// multiple of 32): n/4 words of four q (int8, lowest first); per block its
// d and Σx (f32 bits); per 16 elements Σq (i32). The kernel declares QO.
var<workgroup> q8_max: array<f32, 256>;
var<workgroup> q8_sum: array<f32, 256>;
var<workgroup> q8_int: array<i32, 256>;

// q8_quad stores quad j of the row (elements 4j..4j+3: v; live is false
// past the row's end), invocation lid's, into the row's words from QO[base]
// on: a block's 8 quads are those of 8 neighbouring invocations (lid ≡ j
// mod 8). Every invocation of the workgroup calls it (it synchronizes), and
// may again after it returns.
fn q8_quad(lid: u32, j: u32, v: vec4<f32>, live: bool, n: u32, base: u32) {
    let a = abs(v);
    q8_max[lid] = max(max(a.x, a.y), max(a.z, a.w));
    q8_sum[lid] = v.x + v.y + v.z + v.w;
    workgroupBarrier();
    let b0 = lid & ~7u;
    var m = 0.0;
    var s = 0.0;
    for (var i = 0u; i < 8u; i++) {
        m = max(m, q8_max[b0 + i]);
        s += q8_sum[b0 + i];
    }
    let d = m / 127.0;
    let q = vec4<i32>(round(v / select(1.0, d, d > 0.0)));
    q8_int[lid] = q.x + q.y + q.z + q.w;
    workgroupBarrier();
    let nq = n / 4u;
    if (live) {
        let u = vec4<u32>(q) & vec4<u32>(0xffu);
        QO[base + j] = u.x | (u.y << 8u) | (u.z << 16u) | (u.w << 24u);
        if ((lid & 7u) == 0u) {
            QO[base + nq + 2u * (j >> 3u)] = bitcast<u32>(d);
            QO[base + nq + 2u * (j >> 3u) + 1u] = bitcast<u32>(s);
        }
        if ((lid & 3u) == 0u) {
            QO[base + nq + nq / 4u + (j >> 2u)] = bitcast<u32>(q8_int[lid] + q8_int[lid + 1u] + q8_int[lid + 2u] + q8_int[lid + 3u]);
        }
    }
    workgroupBarrier(); // the arrays are refilled by the next call
}
