// wdot for Q4_K (see weight_q4_k.wgsl): Σ x·(d·q − m) = d·Σ q·x − m·Σ x,
// a word of four nibbles at a time, with no decoded unit kept. The unit's
// 32 bytes are two 16-byte loads (with the header's, three in flight); a
// part takes half of them (WP ≤ 2).
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let bv = (row + 144u * (u >> 3u)) >> 4u;
    let s = u & 7u;
    let h = W[bv];
    let dm = unpack2x16float(h.x);
    let sm = k_scale_min(h.yzw, s);
    let qv = bv + 1u + 2u * (s >> 1u);
    let shift = 4u * (s & 1u);
    var qx = 0.0;
    var sx = 0.0;
    for (var t = 0u; t < 2u / WP; t++) { // constant trip count (WP ≤ 2): unrolled, loads in flight
        let i = p + t * WP;
        let q = W[qv + i];
        for (var c = 0u; c < 4u; c++) {
            let x = xv4(xb + 16u * i + 4u * c);
            qx += dot(x, ubytes((q[c] >> shift) & 0x0f0f0f0fu, 0.0));
            sx += x.x + x.y + x.z + x.w;
        }
    }
    return dm.x * f32(sm.x) * qx - dm.y * f32(sm.y) * sx;
}
