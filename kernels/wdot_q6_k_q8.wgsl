// wdot for Q6_K against 8-bit activations (quantize_q8.wgsl): per
// 16-element half with its scale, dx·d·sc·(Σ q·qx − 32·Σ qx), the loads of
// wdot_q6_k.wgsl; part 0 takes the −32·Σ qx of both halves.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let at = w_q6_at(row, u);
    let sh = w_q6_shifts(u);
    var a = select(vec2<i32>(0), -32 * vec2<i32>(xq_sum16(xb), xq_sum16(xb + 16u)), p == 0u);
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        let v = ((w_u32(at.x + 4u * j) >> sh.x) & 0x0f0f0f0fu) | (((w_u32(at.y + 4u * j) >> sh.y) & 0x03030303u) << 4u);
        let d = dot4I8Packed(v, xq(xb / 4u + j));
        if (j < 4u) {
            a.x += d;
        } else {
            a.y += d;
        }
    }
    return w_f16(at.w) * xq_d(xb) * (w_q6_scale(at, 0u) * f32(a.x) + w_q6_scale(at, 1u) * f32(a.y));
}
