// wdot for Q8_0 (see weight_q8_0.wgsl): d·Σ q·x, four int8s a word.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 34u * u;
    var a = 0.0;
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        // Flipping each byte's sign bit makes it q + 128, unsigned.
        a += dot(xv4(xb + 4u * j), ubytes(w_u32(base + 2u + 4u * j) ^ 0x80808080u, 128.0));
    }
    return w_f16(base) * a;
}
