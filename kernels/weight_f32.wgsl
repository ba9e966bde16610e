// Weight access for F32 rows: a unit is UNIT (1 or 4) consecutive elements.
// `row` is the byte offset of the row within the bound chunk.
@group(0) @binding(1) var<storage, read> W: array<u32>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let b = (row >> 2u) + u * UNIT;
    for (var e = 0u; e < UNIT; e++) {
        (*out)[e] = bitcast<f32>(W[b + e]);
    }
}
