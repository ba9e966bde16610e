// wdot for Q5_0 against 8-bit activations (quantize_q8.wgsl):
// d·dx·(Σ q·qx − 16·Σ qx), step j as in wdot_q5_0.wgsl; part 0 takes the
// block's −16·Σ qx.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 22u * u;
    var words: array<u32, 5>;
    w_q5_start(base, WP == 1u, &words); // one span of 6 loads for a whole unit, not 10
    let qh = words[0];
    var a = select(0, -16 * xq_sum32(xb), p == 0u);
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        var q = words[1u + (j & 3u)];
        if (WP != 1u) {
            q = w_u32(base + 6u + 4u * (j & 3u));
        }
        let b = ((q >> (4u * (j >> 2u))) & 0x0f0f0f0fu) | spread4(qh >> (4u * j));
        a += dot4I8Packed(b, xq(xb / 4u + j));
    }
    return w_f16(base) * xq_d(xb) * f32(a);
}
