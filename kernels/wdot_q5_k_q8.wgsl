// wdot for Q5_K against 8-bit activations (quantize_q8.wgsl): the loads of
// wdot_q5_k.wgsl, d·sc·dx·Σ q·qx − dmin·m·Σ x (Σ x of the block exact);
// part 0 takes the min term.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let bv = (row + 176u * (u >> 3u)) >> 4u;
    let s = u & 7u;
    let hd = W[bv];
    let dm = unpack2x16float(hd.x);
    let sm = k_scale_min(hd.yzw, s);
    let qv = bv + 3u + 2u * (s >> 1u);
    let shift = 4u * (s & 1u);
    var a = 0;
    for (var t = 0u; t < 2u / WP; t++) { // constant trip count (WP ≤ 2): unrolled, loads in flight
        let i = p + t * WP;
        let q = W[qv + i];
        let h = W[bv + 1u + i];
        for (var c = 0u; c < 4u; c++) {
            let v = ((q[c] >> shift) & 0x0f0f0f0fu) | (((h[c] >> s) & 0x01010101u) << 4u);
            a += dot4I8Packed(v, xq(xb / 4u + 4u * i + c));
        }
    }
    let m = select(0.0, dm.y * f32(sm.y) * xq_xsum(xb), p == 0u);
    return dm.x * f32(sm.x) * xq_d(xb) * f32(a) - m;
}
