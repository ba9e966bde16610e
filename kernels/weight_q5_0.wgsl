// Weight access for Q5_0 rows (22-byte blocks: d f16 | qh u32 | qs[16]); the
// fifth bit of element e is bit e of qh. A unit is one block.
@group(0) @binding(1) var<storage, read> W: array<u32>;

fn load_unit(row: u32, u: u32, out: ptr<function, array<f32, UNIT>>) {
    let base = row + 22u * u;
    let d = w_f16(base);
    let qh = w_u32(base + 2u);
    for (var j = 0u; j < 4u; j++) {
        let q = w_u32(base + 6u + 4u * j);
        for (var k = 0u; k < 4u; k++) {
            let e = 4u * j + k;
            let b = (q >> (8u * k)) & 0xffu;
            let lo = (b & 15u) | (((qh >> e) & 1u) << 4u);
            let hi = (b >> 4u) | (((qh >> (e + 16u)) & 1u) << 4u);
            (*out)[e] = f32(i32(lo) - 16) * d;
            (*out)[e + 16u] = f32(i32(hi) - 16) * d;
        }
    }
}

// w_q5_words reads a block's qh and its 4 quant words (20 bytes from base
// + 2, even): 6 word loads and a funnel shift, where unaligned reads word
// by word (w_u32) load 10.
fn w_q5_words(base: u32, v: ptr<function, array<u32, 5>>) {
    let i = (base + 2u) >> 2u;
    let sh = ((base + 2u) & 2u) * 8u;
    var w: array<u32, 6>;
    for (var j = 0u; j < 6u; j++) {
        w[j] = w_word(i + j); // the 6th is past the block when sh is 0 (unused; in bounds or clamped)
    }
    for (var j = 0u; j < 5u; j++) {
        (*v)[j] = w_funnel(w[j], w[j + 1u], sh);
    }
}

// w_q5_start reads a block's qh into v[0] and, where whole (an invocation
// dots the whole unit), its quant words into v[1..4] (w_q5_words); a part
// of a unit reads its own quant words as it goes.
fn w_q5_start(base: u32, whole: bool, v: ptr<function, array<u32, 5>>) {
    if (whole) {
        w_q5_words(base, v);
    } else {
        (*v)[0] = w_u32(base + 2u);
    }
}

// spread4 moves bits 0–3 of b to bit 4 of bytes 0–3 (the fifth bits of
// four elements, for the wdots and wint_q5_0.wgsl).
fn spread4(b: u32) -> u32 {
    return ((b & 1u) << 4u) | ((b & 2u) << 11u) | ((b & 4u) << 18u) | ((b & 8u) << 25u);
}
