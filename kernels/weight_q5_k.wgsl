// Weight access for Q5_K rows (176-byte super-blocks of 256: d f16 | dmin f16
// | scales[12] | qh[32] | qs[128]); a unit is one 32-element sub-block s,
// whose fifth bits are bit s of qh[l].
@group(0) @binding(1) var<storage, read> W: array<u32>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let base = row + 176u * (u >> 3u);
    let s = u & 7u;
    let d = w_f16(base);
    let dmin = w_f16(base + 2u);
    let sm = k_scale_min(base + 4u, s);
    let d1 = d * f32(sm.x);
    let o1 = dmin * f32(sm.y);
    let qs = base + 48u + 32u * (s >> 1u);
    let shift = 4u * (s & 1u);
    for (var j = 0u; j < 8u; j++) {
        let q = w_u32(qs + 4u * j);
        let h = w_u32(base + 16u + 4u * j);
        for (var k = 0u; k < 4u; k++) {
            let v = ((q >> (8u * k + shift)) & 15u) | (((h >> (8u * k + s)) & 1u) << 4u);
            (*out)[4u * j + k] = d1 * f32(v) - o1;
        }
    }
}
