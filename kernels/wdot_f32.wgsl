// wdot for F32 rows read in units of four (UNIT 4; WP is 1).
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let b = (row >> 2u) + 4u * u;
    return dot(xv4(xb), vec4<f32>(bitcast<f32>(W[b]), bitcast<f32>(W[b + 1u]), bitcast<f32>(W[b + 2u]), bitcast<f32>(W[b + 3u])));
}
