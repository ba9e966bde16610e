// Weight access for BF16 rows (the top halves of f32s): a unit is UNIT (1 or
// 4) consecutive elements.
@group(0) @binding(1) var<storage, read> W: array<u32>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let off = row + 2u * UNIT * u;
    if (UNIT == 4u) {
        let a = w_u32(off);
        let b = w_u32(off + 4u);
        (*out)[0] = bitcast<f32>(a << 16u);
        (*out)[1 % UNIT] = bitcast<f32>(a & 0xffff0000u);
        (*out)[2 % UNIT] = bitcast<f32>(b << 16u);
        (*out)[3 % UNIT] = bitcast<f32>(b & 0xffff0000u);
    } else {
        (*out)[0] = bitcast<f32>(w_u16(off) << 16u);
    }
}
