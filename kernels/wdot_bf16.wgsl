// wdot for BF16 rows read in units of four (UNIT 4; WP is 1): the top
// halves of f32s.
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let off = row + 8u * u;
    let a = w_u32(off);
    let b = w_u32(off + 4u);
    let w = vec4<f32>(bitcast<f32>(a << 16u), bitcast<f32>(a & 0xffff0000u), bitcast<f32>(b << 16u), bitcast<f32>(b & 0xffff0000u));
    return dot(xv4(xb), w);
}
