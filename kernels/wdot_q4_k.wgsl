// wdot for Q4_K (see weight_q4_k.wgsl): Σ x·(d·q − m) = d·Σ q·x − m·Σ x,
// a word of four nibbles at a time, with no decoded unit kept. The unit's
// 32 bytes are two 16-byte loads (with the header's, three in flight); a
// part takes half of them (WP ≤ 2).
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let sc = w_k4_scales(row, u);
    let qs = w_k4_quants(row, u);
    var qx = 0.0;
    var sx = 0.0;
    for (var t = 0u; t < 2u / WP; t++) { // constant trip count (WP ≤ 2): unrolled, loads in flight
        let i = p + t * WP;
        let q = W[qs.x + i];
        for (var c = 0u; c < 4u; c++) {
            let x = xv4(xb + 16u * i + 4u * c);
            qx += dot(x, ubytes((q[c] >> qs.y) & 0x0f0f0f0fu, 0.0));
            sx += x.x + x.y + x.z + x.w;
        }
    }
    return sc.x * qx - sc.y * sx;
}
