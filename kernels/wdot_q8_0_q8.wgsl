// wdot for Q8_0 against 8-bit activations (quantize_q8.wgsl): d·dx·Σ q·qx,
// four products a dot4I8Packed.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 34u * u;
    var a = 0;
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        a += dot4I8Packed(w_u32(base + 2u + 4u * j), xq(xb / 4u + j));
    }
    return w_f16(base) * xq_d(xb) * f32(a);
}
