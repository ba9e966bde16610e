// Weight access for F16 rows: a unit is UNIT (1 or 4) consecutive elements.
@group(0) @binding(1) var<storage, read> W: array<u32>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let off = row + 2u * UNIT * u;
    if (UNIT == 4u) {
        let a = unpack2x16float(w_u32(off));
        let b = unpack2x16float(w_u32(off + 4u));
        (*out)[0] = a.x;
        (*out)[1 % UNIT] = a.y;
        (*out)[2 % UNIT] = b.x;
        (*out)[3 % UNIT] = b.y;
    } else {
        (*out)[0] = w_f16(off);
    }
}
