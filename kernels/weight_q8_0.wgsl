// Weight access for Q8_0 rows (34-byte blocks: d f16 | qs[32] int8); a unit
// is one block.
@group(0) @binding(1) var<storage, read> W: array<u32>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let base = row + 34u * u;
    let d = w_f16(base);
    for (var j = 0u; j < 8u; j++) {
        let q = w_u32(base + 2u + 4u * j);
        for (var k = 0u; k < 4u; k++) {
            let v = bitcast<i32>(q << (24u - 8u * k)) >> 24u;
            (*out)[4u * j + k] = f32(v) * d;
        }
    }
}
