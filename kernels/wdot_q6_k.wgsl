// wdot for Q6_K (see weight_q6_k.wgsl): four 6-bit values a word pair,
// each 16-element half of the unit with its own scale.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let at = w_q6_at(row, u);
    let sh = w_q6_shifts(u);
    var a = vec2<f32>(0.0);
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        let v = ((w_u32(at.x + 4u * j) >> sh.x) & 0x0f0f0f0fu) | (((w_u32(at.y + 4u * j) >> sh.y) & 0x03030303u) << 4u);
        let p = dot(xv4(xb + 4u * j), ubytes(v, 32.0));
        if (j < 4u) {
            a.x += p;
        } else {
            a.y += p;
        }
    }
    return w_f16(at.w) * (w_q6_scale(at, 0u) * a.x + w_q6_scale(at, 1u) * a.y);
}
