// wdot for Q6_K against 8-bit activations (quantize_q8.wgsl): per
// 16-element half with its scale, dx·d·sc·(Σ q·qx − 32·Σ qx), the loads of
// wdot_q6_k.wgsl; part 0 takes the −32·Σ qx of both halves.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 210u * (u >> 3u);
    let s = u & 7u;
    let h = s >> 2u;
    let k = s & 3u;
    let ql = base + 64u * h + 32u * (k & 1u);
    let qh = base + 128u + 32u * h;
    let nib = 4u * (k >> 1u);
    let sc = base + 192u + 8u * h + 2u * k;
    var a = select(vec2<i32>(0), -32 * vec2<i32>(xq_sum16(xb), xq_sum16(xb + 16u)), p == 0u);
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        let v = ((w_u32(ql + 4u * j) >> nib) & 0x0f0f0f0fu) | (((w_u32(qh + 4u * j) >> (2u * k)) & 0x03030303u) << 4u);
        let d = dot4I8Packed(v, xq(xb / 4u + j));
        if (j < 4u) {
            a.x += d;
        } else {
            a.y += d;
        }
    }
    let d0 = f32(bitcast<i32>(w_u8(sc) << 24u) >> 24u);
    let d1 = f32(bitcast<i32>(w_u8(sc + 1u) << 24u) >> 24u);
    return w_f16(base + 208u) * xq_d(xb) * (d0 * f32(a.x) + d1 * f32(a.y));
}
