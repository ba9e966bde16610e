// Weight access for Q4_K rows (144-byte super-blocks of 256: d f16 | dmin f16
// | scales[12] | qs[128]); a unit is one 32-element sub-block. Rows start
// 16-byte aligned (gpuops checks) and 144 is 9·16, so W is read in 16-byte
// vectors: the first holds d, dmin and every scale, then two per 64 nibble
// pairs (sub-blocks 2g and 2g+1 share bytes: low and high nibbles).
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let bv = (row + 144u * (u >> 3u)) >> 4u;
    let s = u & 7u;
    let h = W[bv];
    let dm = unpack2x16float(h.x);
    let sm = k_scale_min(h.yzw, s);
    let d1 = dm.x * f32(sm.x);
    let o1 = dm.y * f32(sm.y);
    let qv = bv + 1u + 2u * (s >> 1u);
    let shift = 4u * (s & 1u);
    for (var j = 0u; j < 8u; j++) {
        let q = W[qv + (j >> 2u)][j & 3u];
        for (var k = 0u; k < 4u; k++) {
            let v = (q >> (8u * k + shift)) & 15u;
            (*out)[4u * j + k] = d1 * f32(v) - o1;
        }
    }
}
