// wdot for F16 rows read in units of four (UNIT 4; WP is 1).
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    let off = row + 8u * u;
    return dot(xv4(xb), vec4<f32>(unpack2x16float(w_u32(off)), unpack2x16float(w_u32(off + 4u))));
}
