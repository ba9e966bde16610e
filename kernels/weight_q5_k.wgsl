// Weight access for Q5_K rows (176-byte super-blocks of 256: d f16 | dmin f16
// | scales[12] | qh[32] | qs[128]); a unit is one 32-element sub-block s,
// whose fifth bits are bit s of qh[l]. Rows start 16-byte aligned (gpuops
// checks) and 176 is 11·16, so W is read in 16-byte vectors: d, dmin and
// the scales; two of qh; then two per 64 nibble pairs.
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;

// w_k5_scales is unit u's scale d·sc and offset dmin·m (a unit's value
// is d·sc·q − dmin·m); w_k5_at the vectors of its first 16 quant bytes (x)
// and of its first 16 fifth-bit bytes (z), the nibbles' shift (y) and the
// fifth bit's (w). The wdots read units through them too.
fn w_k5_scales(row: u32, u: u32) -> vec2<f32> { return k_unit_scales(W[(row + 176u * (u >> 3u)) >> 4u], u & 7u); }

fn w_k5_at(row: u32, u: u32) -> vec4<u32> {
    let bv = (row + 176u * (u >> 3u)) >> 4u;
    let s = u & 7u;
    return vec4<u32>(bv + 3u + 2u * (s >> 1u), 4u * (s & 1u), bv + 1u, s);
}

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let sc = w_k5_scales(row, u);
    let at = w_k5_at(row, u);
    for (var j = 0u; j < 8u; j++) {
        let q = W[at.x + (j >> 2u)][j & 3u];
        let h = W[at.z + (j >> 2u)][j & 3u];
        for (var k = 0u; k < 4u; k++) {
            let v = ((q >> (8u * k + at.y)) & 15u) | (((h >> (8u * k + at.w)) & 1u) << 4u);
            (*out)[4u * j + k] = sc.x * f32(v) - sc.y;
        }
    }
}
