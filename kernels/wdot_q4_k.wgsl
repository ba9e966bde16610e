// wdot for Q4_K (see weight_q4_k.wgsl): Σ x·(d·q − m) = d·Σ q·x − m·Σ x,
// a word of four nibbles at a time, with no decoded unit kept.
fn wdot(row: u32, u: u32, xb: u32) -> f32 {
    let bw = (row + 144u * (u >> 3u)) >> 2u;
    let s = u & 7u;
    let dm = unpack2x16float(W[bw]);
    let sm = k_scale_min(bw + 1u, s);
    let qw = bw + 4u + 8u * (s >> 1u);
    let shift = 4u * (s & 1u);
    var qx = 0.0;
    var sx = 0.0;
    for (var j = 0u; j < 8u; j++) {
        let x = xv4(xb + 4u * j);
        qx += dot(x, ubytes((W[qw + j] >> shift) & 0x0f0f0f0fu));
        sx += x.x + x.y + x.z + x.w;
    }
    return dm.x * f32(sm.x) * qx - dm.y * f32(sm.y) * sx;
}
