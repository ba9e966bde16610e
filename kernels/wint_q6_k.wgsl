// Integer unit access for Q6_K (matmul_tiled_q8.wgsl): the 6-bit q as the
// int8 q − 32; each 16-element half has its own scale d·sc.
const UNIT_HALVES = true;
const UNIT_OFFSET = false;

fn load_unit_i8(row: u32, u: u32, q: ptr<function, array<u32, 8>>) -> vec3<f32> {
    let at = w_q6_at(row, u);
    let sh = w_q6_shifts(u);
    var ql: array<u32, 8>;
    var qh: array<u32, 8>;
    w_u32x8(at.x, &ql);
    w_u32x8(at.y, &qh);
    for (var j = 0u; j < 8u; j++) {
        let v = ((ql[j] >> sh.x) & 0x0f0f0f0fu) | (((qh[j] >> sh.y) & 0x03030303u) << 4u);
        (*q)[j] = sub_bytes(v, 0x20202020u);
    }
    let d = w_f16(at.w);
    return vec3<f32>(d * w_q6_scale(at, 0u), d * w_q6_scale(at, 1u), 0.0);
}
