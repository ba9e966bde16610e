// Weight access for Q6_K rows (210-byte super-blocks of 256: ql[128] |
// qh[64] | scales[16] int8 | d f16); a unit is 32 elements: half h = u/4 and
// quarter k = u%4, element l of it at ql[64h+32(k&1)+l] (high nibble for
// k ≥ 2) with its top bits at bit 2k of qh[32h+l]; sub-block scale
// 8h+2k+l/16.
@group(0) @binding(1) var<storage, read> W: array<u32>;

// w_q6_at is unit u's byte offsets: its low nibbles (x), its top bits (y),
// its two 16-element halves' scales (z) and its super-block's d (w);
// w_q6_shifts its nibbles' shift (x) and its top bits' (y); w_q6_scale
// half i's scale (int8). The wdots read units through them too.
fn w_q6_at(row: u32, u: u32) -> vec4<u32> {
    let base = row + 210u * (u >> 3u);
    let h = (u & 7u) >> 2u;
    let k = u & 3u;
    return vec4<u32>(base + 64u * h + 32u * (k & 1u), base + 128u + 32u * h, base + 192u + 8u * h + 2u * k, base + 208u);
}

fn w_q6_shifts(u: u32) -> vec2<u32> { return vec2<u32>(4u * ((u & 3u) >> 1u), 2u * (u & 3u)); }

fn w_q6_scale(at: vec4<u32>, i: u32) -> f32 { return f32(bitcast<i32>(w_u8(at.z + i) << 24u) >> 24u); }

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let at = w_q6_at(row, u);
    let sh = w_q6_shifts(u);
    let d = w_f16(at.w);
    let d0 = d * w_q6_scale(at, 0u);
    let d1 = d * w_q6_scale(at, 1u);
    for (var j = 0u; j < 8u; j++) {
        let lo = w_u32(at.x + 4u * j);
        let hi = w_u32(at.y + 4u * j);
        for (var b = 0u; b < 4u; b++) {
            let q = ((lo >> (8u * b + sh.x)) & 15u) | (((hi >> (8u * b + sh.y)) & 3u) << 4u);
            let l = 4u * j + b;
            let ds = select(d0, d1, l >= 16u);
            (*out)[l] = ds * f32(i32(q) - 32);
        }
    }
}
