// Integer unit access for Q4_K (matmul_tiled_q8.wgsl): the sub-block's
// nibbles as they are (0–15), scale d·sc, offset −dmin·m.
const UNIT_HALVES = false;
const UNIT_OFFSET = true;

fn load_unit_i8(row: u32, u: u32, q: ptr<function, array<u32, 8>>) -> vec3<f32> {
    let sc = w_k4_scales(row, u);
    let qs = w_k4_quants(row, u);
    for (var i = 0u; i < 2u; i++) {
        let v = W[qs.x + i];
        for (var c = 0u; c < 4u; c++) {
            (*q)[4u * i + c] = (v[c] >> qs.y) & 0x0f0f0f0fu;
        }
    }
    return vec3<f32>(sc.x, sc.x, -sc.y);
}
