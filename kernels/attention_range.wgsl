// The decode attention kernels' split of the keys (attention.wgsl's rule):
// split `split` of row r sees key positions [lo, hi), from the oldest one
// the row sees (its window's start, or 0) in steps of P.split_len. Returns
// (lo, hi, the row's cache slot, its position), read from the step buffer:
// one invocation calls it and shares the result through workgroup memory,
// so the loops over them stay workgroup-uniform.
fn split_range(r: u32, split: u32) -> vec4<u32> {
    let pos = step[P.pos_off + r];
    var first = 0;
    if (P.window > 0u) {
        first = max(0, pos - i32(P.window) + 1);
    }
    let lo = u32(first) + split * P.split_len;
    let hi = max(lo, min(u32(pos) + 1u, lo + P.split_len));
    return vec4<u32>(lo, hi, u32(step[P.slot_off + r / P.t]), u32(pos));
}
