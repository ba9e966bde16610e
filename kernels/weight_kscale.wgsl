// Shared by the Q4_K and Q5_K weight files: k_scale_min unpacks sub-block
// s's 6-bit scale and min from the 12 scale bytes q (three words: bytes 4–15
// of the super-block, after d and dmin; llama.cpp's get_scale_min_k4
// packing).
// k_unit_scales is sub-block s's scale d·sc and offset dmin·m from its
// super-block's first 16 bytes h (d, dmin, the 12 scale bytes).
fn k_unit_scales(h: vec4<u32>, s: u32) -> vec2<f32> {
    let dm = unpack2x16float(h.x);
    let sm = k_scale_min(h.yzw, s);
    return vec2<f32>(dm.x * f32(sm.x), dm.y * f32(sm.y));
}

fn k_scale_min(q: vec3<u32>, s: u32) -> vec2<u32> {
    // Byte i of the scales is q[i / 4] >> (8 · (i % 4)).
    let lo = (q[s >> 2u] >> (8u * (s & 3u))) & 0xffu;         // byte s (s < 4) or s (s ≥ 4: the high bits' source)
    let hi = (q[(s + 4u) >> 2u] >> (8u * (s & 3u))) & 0xffu;  // byte s + 4
    if (s < 4u) {
        return vec2<u32>(lo & 63u, hi & 63u);
    }
    let low4 = (q[(s - 4u) >> 2u] >> (8u * (s & 3u))) & 0xffu; // byte s - 4
    return vec2<u32>((hi & 15u) | ((low4 >> 6u) << 4u), (hi >> 4u) | ((lo >> 6u) << 4u));
}
