// Integer unit access for Q5_K (matmul_tiled_q8.wgsl): the sub-block's
// 5-bit values as they are (0–31), scale d·sc, offset −dmin·m.
const UNIT_HALVES = false;
const UNIT_OFFSET = true;

fn load_unit_i8(row: u32, u: u32, q: ptr<function, array<u32, 8>>) -> vec3<f32> {
    let sc = w_k5_scales(row, u);
    let at = w_k5_at(row, u);
    for (var i = 0u; i < 2u; i++) {
        let v = W[at.x + i];
        let h = W[at.z + i];
        for (var c = 0u; c < 4u; c++) {
            (*q)[4u * i + c] = ((v[c] >> at.y) & 0x0f0f0f0fu) | (((h[c] >> at.w) & 0x01010101u) << 4u);
        }
    }
    return vec3<f32>(sc.x, sc.x, -sc.y);
}
