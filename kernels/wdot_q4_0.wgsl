// wdot for Q4_0 (see weight_q4_0.wgsl): d·Σ (q − 8)·x, four nibbles a
// step: steps 0–3 the low nibbles of words 0–3 (elements 4j..4j+3), steps
// 4–7 their high nibbles (elements 16.., i.e. 4j.. again).
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 18u * u;
    var a = 0.0;
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        let q = w_u32(base + 2u + 4u * (j & 3u));
        a += dot(xv4(xb + 4u * j), ubytes((q >> (4u * (j >> 2u))) & 0x0f0f0f0fu, 8.0));
    }
    return w_f16(base) * a;
}
