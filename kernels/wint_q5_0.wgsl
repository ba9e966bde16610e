// Integer unit access for Q5_0 (matmul_tiled_q8.wgsl): the 5-bit q as the
// int8 q − 16, scale d; element e's fifth bit is bit e of qh.
const UNIT_HALVES = false;
const UNIT_OFFSET = false;

fn load_unit_i8(row: u32, u: u32, q: ptr<function, array<u32, 8>>) -> vec3<f32> {
    let base = row + 22u * u;
    var v: array<u32, 5>;
    w_q5_words(base, &v);
    let qh = v[0];
    for (var j = 0u; j < 4u; j++) {
        let b = v[j + 1u];
        (*q)[j] = sub_bytes((b & 0x0f0f0f0fu) | spread4(qh >> (4u * j)), 0x10101010u);
        (*q)[j + 4u] = sub_bytes(((b >> 4u) & 0x0f0f0f0fu) | spread4(qh >> (4u * j + 16u)), 0x10101010u);
    }
    let d = w_f16(base);
    return vec3<f32>(d, d, 0.0);
}
