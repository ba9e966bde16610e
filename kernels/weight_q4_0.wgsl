// Weight access for Q4_0 rows (18-byte blocks: d f16 | qs[16]; byte j holds
// element j low and j+16 high); a unit is one block.
@group(0) @binding(1) var<storage, read> W: array<u32>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let base = row + 18u * u;
    let d = w_f16(base);
    for (var j = 0u; j < 4u; j++) {
        let q = w_u32(base + 2u + 4u * j);
        for (var k = 0u; k < 4u; k++) {
            let b = (q >> (8u * k)) & 0xffu;
            (*out)[4u * j + k] = f32(i32(b & 15u) - 8) * d;
            (*out)[4u * j + k + 16u] = f32(i32(b >> 4u) - 8) * d;
        }
    }
}
