// Weight access for Q6_K rows (210-byte super-blocks of 256: ql[128] |
// qh[64] | scales[16] int8 | d f16); a unit is 32 elements: half h = u/4 and
// quarter k = u%4, element l of it at ql[64h+32(k&1)+l] (high nibble for
// k ≥ 2) with its top bits at bit 2k of qh[32h+l]; sub-block scale
// 8h+2k+l/16.
@group(0) @binding(1) var<storage, read> W: array<u32>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let base = row + 210u * (u >> 3u);
    let s = u & 7u;
    let h = s >> 2u;
    let k = s & 3u;
    let d = w_f16(base + 208u);
    let ql = base + 64u * h + 32u * (k & 1u);
    let qh = base + 128u + 32u * h;
    let nib = 4u * (k >> 1u);
    let sc = base + 192u + 8u * h + 2u * k;
    let d0 = d * f32(bitcast<i32>(w_u8(sc) << 24u) >> 24u);
    let d1 = d * f32(bitcast<i32>(w_u8(sc + 1u) << 24u) >> 24u);
    for (var j = 0u; j < 8u; j++) {
        let lo = w_u32(ql + 4u * j);
        let hi = w_u32(qh + 4u * j);
        for (var b = 0u; b < 4u; b++) {
            let q = ((lo >> (8u * b + nib)) & 15u) | (((hi >> (8u * b + 2u * k)) & 3u) << 4u);
            let l = 4u * j + b;
            let ds = select(d0, d1, l >= 16u);
            (*out)[l] = ds * f32(i32(q) - 32);
        }
    }
}
