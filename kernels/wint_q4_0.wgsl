// Integer unit access for Q4_0 (matmul_tiled_q8.wgsl): nibble q as the
// int8 q − 8, scale d. Words 0–3 of the unit are the low nibbles of its
// 16 bytes, words 4–7 the high ones.
const UNIT_HALVES = false;
const UNIT_OFFSET = false;

fn load_unit_i8(row: u32, u: u32, q: ptr<function, array<u32, 8>>) -> vec3<f32> {
    let base = row + 18u * u;
    var v: array<u32, 4>;
    w_u32x4(base + 2u, &v);
    for (var j = 0u; j < 4u; j++) {
        let b = v[j];
        (*q)[j] = sub_bytes(b & 0x0f0f0f0fu, 0x08080808u);
        (*q)[j + 4u] = sub_bytes((b >> 4u) & 0x0f0f0f0fu, 0x08080808u);
    }
    let d = w_f16(base);
    return vec3<f32>(d, d, 0.0);
}
