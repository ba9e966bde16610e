// Shared by the Q4_K and Q5_K weight files: k_scale_min unpacks sub-block
// s's 6-bit scale and min from the 12 scale bytes at sb (llama.cpp's
// get_scale_min_k4 packing). Needs w_u8 from the weight helpers.
fn k_scale_min(sb: u32, s: u32) -> vec2<u32> {
    if (s < 4u) {
        return vec2<u32>(w_u8(sb + s) & 63u, w_u8(sb + s + 4u) & 63u);
    }
    let b = w_u8(sb + s + 4u);
    return vec2<u32>((b & 15u) | ((w_u8(sb + s - 4u) >> 6u) << 4u), (b >> 4u) | ((w_u8(sb + s) >> 6u) << 4u));
}
