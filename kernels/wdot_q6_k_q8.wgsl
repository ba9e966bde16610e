// wdot for Q6_K against 8-bit activations (quantize_q8.wgsl): per
// 16-element half with its scale, dx·d·sc·(Σ q·qx − 32·Σ qx), the loads of
// wdot_q6_k.wgsl; part 0 takes the −32·Σ qx of both halves. A whole unit an
// invocation (WP 1) reads its 8 low and 8 high words as two spans
// (w_u32x8: 18 word loads, not 32).
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let at = w_q6_at(row, u);
    let sh = w_q6_shifts(u);
    var lo: array<u32, 8>;
    var hi: array<u32, 8>;
    if (WP == 1u) {
        w_u32x8(at.x, &lo);
        w_u32x8(at.y, &hi);
    }
    var a = select(vec2<i32>(0), -32 * vec2<i32>(xq_sum16(xb), xq_sum16(xb + 16u)), p == 0u);
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        var l = lo[j];
        var h = hi[j];
        if (WP != 1u) {
            l = w_u32(at.x + 4u * j);
            h = w_u32(at.y + 4u * j);
        }
        let v = ((l >> sh.x) & 0x0f0f0f0fu) | (((h >> sh.y) & 0x03030303u) << 4u);
        let d = dot4I8Packed(v, xq(xb / 4u + j));
        if (j < 4u) {
            a.x += d;
        } else {
            a.y += d;
        }
    }
    return w_f16(at.w) * xq_d(xb) * (w_q6_scale(at, 0u) * f32(a.x) + w_q6_scale(at, 1u) * f32(a.y));
}
