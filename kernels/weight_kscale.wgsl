// Shared by the Q4_K and Q5_K weight files, whose super-blocks (144 and 176
// bytes) keep every row 4-byte aligned: k_scale_min unpacks sub-block s's
// 6-bit scale and min from the 12 scale bytes in words sw..sw+2 of W
// (llama.cpp's get_scale_min_k4 packing), three word loads for all of them.
fn k_scale_min(sw: u32, s: u32) -> vec2<u32> {
    var q = array<u32, 3>(W[sw], W[sw + 1u], W[sw + 2u]);
    // Byte i of the scales is q[i / 4] >> (8 · (i % 4)).
    let lo = (q[s >> 2u] >> (8u * (s & 3u))) & 0xffu;         // byte s (s < 4) or s (s ≥ 4: the high bits' source)
    let hi = (q[(s + 4u) >> 2u] >> (8u * (s & 3u))) & 0xffu;  // byte s + 4
    if (s < 4u) {
        return vec2<u32>(lo & 63u, hi & 63u);
    }
    let low4 = (q[(s - 4u) >> 2u] >> (8u * (s & 3u))) & 0xffu; // byte s - 4
    return vec2<u32>((hi & 15u) | ((low4 >> 6u) << 4u), (hi >> 4u) | ((lo >> 6u) << 4u));
}
