// wdot for Q4_0 (see weight_q4_0.wgsl): d·Σ (q − 8)·x, four nibbles a word.
fn wdot(row: u32, u: u32, xb: u32) -> f32 {
    let base = row + 18u * u;
    var a = 0.0;
    for (var j = 0u; j < 4u; j++) {
        let q = w_u32(base + 2u + 4u * j);
        a += dot(xv4(xb + 4u * j), ubytes(q & 0x0f0f0f0fu) - 8.0) + dot(xv4(xb + 16u + 4u * j), ubytes((q >> 4u) & 0x0f0f0f0fu) - 8.0);
    }
    return w_f16(base) * a;
}
