// wdot for Q4_0 (see weight_q4_0.wgsl): d·Σ (q − 8)·x, four nibbles a
// step: steps 0–3 the low nibbles of words 0–3 (elements 4j..4j+3), steps
// 4–7 their high nibbles (elements 16.., i.e. 4j.. again).
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 18u * u;
    // A whole unit an invocation (WP 1): its 4 words as one span (5 loads,
    // not 8); a part of one reads only its own words.
    var qs: array<u32, 4>;
    if (WP == 1u) {
        w_u32x4(base + 2u, &qs);
    }
    var a = 0.0;
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        var q = qs[j & 3u];
        if (WP != 1u) {
            q = w_u32(base + 2u + 4u * (j & 3u));
        }
        a += dot(xv4(xb + 4u * j), ubytes((q >> (4u * (j >> 2u))) & 0x0f0f0f0fu, 8.0));
    }
    return w_f16(base) * a;
}
