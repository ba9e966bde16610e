// Weight access for Q5_K rows (176-byte super-blocks of 256: d f16 | dmin f16
// | scales[12] | qh[32] | qs[128]); a unit is one 32-element sub-block s,
// whose fifth bits are bit s of qh[l]. Rows start 16-byte aligned (gpuops
// checks) and 176 is 11·16, so W is read in 16-byte vectors: d, dmin and
// the scales; two of qh; then two per 64 nibble pairs.
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let bv = (row + 176u * (u >> 3u)) >> 4u;
    let s = u & 7u;
    let hd = W[bv];
    let dm = unpack2x16float(hd.x);
    let sm = k_scale_min(hd.yzw, s);
    let d1 = dm.x * f32(sm.x);
    let o1 = dm.y * f32(sm.y);
    let qv = bv + 3u + 2u * (s >> 1u);
    let shift = 4u * (s & 1u);
    for (var j = 0u; j < 8u; j++) {
        let q = W[qv + (j >> 2u)][j & 3u];
        let h = W[bv + 1u + (j >> 2u)][j & 3u];
        for (var k = 0u; k < 4u; k++) {
            let v = ((q >> (8u * k + shift)) & 15u) | (((h >> (8u * k + s)) & 1u) << 4u);
            (*out)[4u * j + k] = d1 * f32(v) - o1;
        }
    }
}
