// wdot for Q5_K (see weight_q5_k.wgsl): d·Σ q·x − m·Σ x, four elements a
// word, the fifth bits moved to bit 4 of each byte. 16-byte loads: the
// header, and per half unit one of nibbles and one of fifth bits; a part
// takes one half (WP ≤ 2).
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let sc = w_k5_scales(row, u);
    let at = w_k5_at(row, u);
    var qx = 0.0;
    var sx = 0.0;
    for (var t = 0u; t < 2u / WP; t++) { // constant trip count (WP ≤ 2): unrolled, loads in flight
        let i = p + t * WP;
        let q = W[at.x + i];
        let h = W[at.z + i];
        for (var c = 0u; c < 4u; c++) {
            let x = xv4(xb + 16u * i + 4u * c);
            let v = ((q[c] >> at.y) & 0x0f0f0f0fu) | (((h[c] >> at.w) & 0x01010101u) << 4u);
            qx += dot(x, ubytes(v, 0.0));
            sx += x.x + x.y + x.z + x.w;
        }
    }
    return sc.x * qx - sc.y * sx;
}
