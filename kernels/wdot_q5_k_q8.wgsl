// wdot for Q5_K against 8-bit activations (quantize_q8.wgsl): the loads of
// wdot_q5_k.wgsl, d·sc·dx·Σ q·qx − dmin·m·Σ x (Σ x of the block exact);
// part 0 takes the min term.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let sc = w_k5_scales(row, u);
    let at = w_k5_at(row, u);
    var a = 0;
    for (var t = 0u; t < 2u / WP; t++) { // constant trip count (WP ≤ 2): unrolled, loads in flight
        let i = p + t * WP;
        let q = W[at.x + i];
        let h = W[at.z + i];
        for (var c = 0u; c < 4u; c++) {
            let v = ((q[c] >> at.y) & 0x0f0f0f0fu) | (((h[c] >> at.w) & 0x01010101u) << 4u);
            a += dot4I8Packed(v, xq(xb / 4u + 4u * i + c));
        }
    }
    return sc.x * xq_d(xb) * f32(a) - select(0.0, sc.y * xq_xsum(xb), p == 0u);
}
