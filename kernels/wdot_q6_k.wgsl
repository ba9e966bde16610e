// wdot for Q6_K (see weight_q6_k.wgsl): four 6-bit values a word pair,
// each 16-element half of the unit with its own scale.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 210u * (u >> 3u);
    let s = u & 7u;
    let h = s >> 2u;
    let k = s & 3u;
    let ql = base + 64u * h + 32u * (k & 1u);
    let qh = base + 128u + 32u * h;
    let nib = 4u * (k >> 1u);
    let sc = base + 192u + 8u * h + 2u * k;
    var a = vec2<f32>(0.0);
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        let v = ((w_u32(ql + 4u * j) >> nib) & 0x0f0f0f0fu) | (((w_u32(qh + 4u * j) >> (2u * k)) & 0x03030303u) << 4u);
        let p = dot(xv4(xb + 4u * j), ubytes(v, 32.0));
        if (j < 4u) {
            a.x += p;
        } else {
            a.y += p;
        }
    }
    let d0 = f32(bitcast<i32>(w_u8(sc) << 24u) >> 24u);
    let d1 = f32(bitcast<i32>(w_u8(sc + 1u) << 24u) >> 24u);
    return w_f16(base + 208u) * (d0 * a.x + d1 * a.y);
}
