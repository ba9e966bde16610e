// wdot for Q4_0 against 8-bit activations (quantize_q8.wgsl):
// d·dx·(Σ q·qx − 8·Σ qx), step j as in wdot_q4_0.wgsl; part 0 takes the
// block's −8·Σ qx.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 18u * u;
    // A whole unit an invocation (WP 1): its 4 words as one span (5 loads,
    // not 8); a part of one reads only its own words.
    var qs: array<u32, 4>;
    if (WP == 1u) {
        w_u32x4(base + 2u, &qs);
    }
    var a = select(0, -8 * xq_sum32(xb), p == 0u);
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        var q = qs[j & 3u];
        if (WP != 1u) {
            q = w_u32(base + 2u + 4u * (j & 3u));
        }
        a += dot4I8Packed((q >> (4u * (j >> 2u))) & 0x0f0f0f0fu, xq(xb / 4u + j));
    }
    return w_f16(base) * xq_d(xb) * f32(a);
}
