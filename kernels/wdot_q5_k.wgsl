// wdot for Q5_K (see weight_q5_k.wgsl): d·Σ q·x − m·Σ x, four elements a
// word, the fifth bits moved to bit 4 of each byte.
fn wdot(row: u32, u: u32, xb: u32) -> f32 {
    let bw = (row + 176u * (u >> 3u)) >> 2u;
    let s = u & 7u;
    let dm = unpack2x16float(W[bw]);
    let sm = k_scale_min(bw + 1u, s);
    let qw = bw + 12u + 8u * (s >> 1u);
    let shift = 4u * (s & 1u);
    var qx = 0.0;
    var sx = 0.0;
    for (var j = 0u; j < 8u; j++) {
        let x = xv4(xb + 4u * j);
        let v = ((W[qw + j] >> shift) & 0x0f0f0f0fu) | (((W[bw + 4u + j] >> s) & 0x01010101u) << 4u);
        qx += dot(x, ubytes(v));
        sx += x.x + x.y + x.z + x.w;
    }
    return dm.x * f32(sm.x) * qx - dm.y * f32(sm.y) * sx;
}
