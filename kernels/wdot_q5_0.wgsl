// wdot for Q5_0 (see weight_q5_0.wgsl): d·Σ (q − 16)·x, four elements a
// step (steps 0–3 the low nibbles of words 0–3, 4–7 the high ones: elements
// 4j..4j+3 either way), their fifth bits spread to bit 4 of each byte.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 22u * u;
    var words: array<u32, 5>;
    w_q5_start(base, WP == 1u, &words); // one span of 6 loads for a whole unit, not 10
    let qh = words[0];
    var a = 0.0;
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        var q = words[1u + (j & 3u)];
        if (WP != 1u) {
            q = w_u32(base + 6u + 4u * (j & 3u));
        }
        let v = ((q >> (4u * (j >> 2u))) & 0x0f0f0f0fu) | spread4(qh >> (4u * j));
        a += dot(xv4(xb + 4u * j), ubytes(v, 16.0));
    }
    return w_f16(base) * a;
}
