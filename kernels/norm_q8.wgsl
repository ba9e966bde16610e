// The norm kernels' hook norm_q8(lid, base), run after a row's Out is
// stored, in the variant that also stores the row as 8-bit activations
// (q8_quads.wgsl; row r's words from r·(n/4 + n/8) on, as
// quantize_q8.wgsl stores them) at binding Q8B for the GEMV or tiled
// matmul that reads it next: their quantize launch fewer. The workgroup
// reads back what it stored.
@group(0) @binding(Q8B) var<storage, read_write> QO: array<u32>;

fn norm_q8(lid: u32, base: u32) {
    storageBarrier(); // Out's stores, read back by other invocations
    let nq = P.n / 4u;
    for (var c = 0u; c < (nq + WG - 1u) / WG; c++) {
        let j = lid + c * WG;
        let live = j < nq;
        let e = base + 4u * min(j, nq - 1u);
        let v = vec4<f32>(f32(Out[e]), f32(Out[e + 1u]), f32(Out[e + 2u]), f32(Out[e + 3u]));
        q8_quad(lid, j, select(vec4<f32>(0.0), v, live), live, P.n, base / P.n * (nq + nq / 2u));
    }
}
