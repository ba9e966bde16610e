// wdot for Q5_K (see weight_q5_k.wgsl): d·Σ q·x − m·Σ x, four elements a
// word, the fifth bits moved to bit 4 of each byte. 16-byte loads: the
// header, and per half unit one of nibbles and one of fifth bits; a part
// takes one half (WP ≤ 2).
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let bv = (row + 176u * (u >> 3u)) >> 4u;
    let s = u & 7u;
    let hd = W[bv];
    let dm = unpack2x16float(hd.x);
    let sm = k_scale_min(hd.yzw, s);
    let qv = bv + 3u + 2u * (s >> 1u);
    let shift = 4u * (s & 1u);
    var qx = 0.0;
    var sx = 0.0;
    for (var t = 0u; t < 2u / WP; t++) { // constant trip count (WP ≤ 2): unrolled, loads in flight
        let i = p + t * WP;
        let q = W[qv + i];
        let h = W[bv + 1u + i];
        for (var c = 0u; c < 4u; c++) {
            let x = xv4(xb + 16u * i + 4u * c);
            let v = ((q[c] >> shift) & 0x0f0f0f0fu) | (((h[c] >> s) & 0x01010101u) << 4u);
            qx += dot(x, ubytes(v, 0.0));
            sx += x.x + x.y + x.z + x.w;
        }
    }
    return dm.x * f32(sm.x) * qx - dm.y * f32(sm.y) * sx;
}
