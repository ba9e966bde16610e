// wdot for Q8_0 (see weight_q8_0.wgsl): d·Σ q·x, four int8s a word.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let base = row + 34u * u;
    var a = 0.0;
    for (var i = 0u; i < 8u / WP; i++) { // constant trip count: unrolled, every load in flight
        let j = p + i * WP;
        let q = bitcast<i32>(w_u32(base + 2u + 4u * j));
        let v = vec4<f32>(f32((q << 24u) >> 24u), f32((q << 16u) >> 24u), f32((q << 8u) >> 24u), f32(q >> 24u));
        a += dot(xv4(xb + 4u * j), v);
    }
    return w_f16(base) * a;
}
