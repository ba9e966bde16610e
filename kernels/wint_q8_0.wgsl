// Integer unit access for Q8_0 (matmul_tiled_q8.wgsl): a block's 32 int8
// as they are, scale d.
const UNIT_HALVES = false;
const UNIT_OFFSET = false;

fn load_unit_i8(row: u32, u: u32, q: ptr<function, array<u32, 8>>) -> vec3<f32> {
    let base = row + 34u * u;
    w_u32x8(base + 2u, q);
    let d = w_f16(base);
    return vec3<f32>(d, d, 0.0);
}
