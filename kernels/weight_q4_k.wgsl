// Weight access for Q4_K rows (144-byte super-blocks of 256: d f16 | dmin f16
// | scales[12] | qs[128]); a unit is one 32-element sub-block. Rows start
// 16-byte aligned (gpuops checks) and 144 is 9·16, so W is read in 16-byte
// vectors: the first holds d, dmin and every scale, then two per 64 nibble
// pairs (sub-blocks 2g and 2g+1 share bytes: low and high nibbles).
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;

// w_k4_scales is unit u's scale d·sc and offset dmin·m (a unit's value
// is d·sc·q − dmin·m); w_k4_quants the vector of its first 16 quant bytes
// (x) and its nibbles' shift (y). The wdots read units through them too.
fn w_k4_scales(row: u32, u: u32) -> vec2<f32> { return k_unit_scales(W[(row + 144u * (u >> 3u)) >> 4u], u & 7u); }

fn w_k4_quants(row: u32, u: u32) -> vec2<u32> {
    let s = u & 7u;
    return vec2<u32>(((row + 144u * (u >> 3u)) >> 4u) + 1u + 2u * (s >> 1u), 4u * (s & 1u));
}

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let sc = w_k4_scales(row, u);
    let qs = w_k4_quants(row, u);
    for (var j = 0u; j < 8u; j++) {
        let q = W[qs.x + (j >> 2u)][j & 3u];
        for (var k = 0u; k < 4u; k++) {
            let v = (q >> (8u * k + qs.y)) & 15u;
            (*out)[4u * j + k] = sc.x * f32(v) - sc.y;
        }
    }
}
