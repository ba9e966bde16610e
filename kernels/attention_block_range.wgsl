// Shared by the prompt-chunk attention kernels (attention_prefill.wgsl,
// attention_block.wgsl), which define BR (queries per block), BC (keys per
// tile), P (attnPrefillParams) and step: what a block of queries sees.
const NEG: f32 = -3.0e38;

// first_key is the oldest key position a query at pos sees.
fn first_key(pos: u32) -> u32 {
    if (P.window > 0u && pos + 1u > P.window) {
        return pos + 1u - P.window;
    }
    return 0u;
}

// score scales and softcaps a query·key dot product.
fn score(qk: f32) -> f32 {
    let x = qk * P.scale;
    if (P.softcap > 0.0) {
        return tanh(clamp(x / P.softcap, -15.0, 15.0)) * P.softcap;
    }
    return x;
}

// block_range is split split's key positions [x, y) of block blk of
// sequence b (whose queries are rows t·group + g of the chunk, in blocks
// of BR), and z the sequence's cache slot: from the oldest key any of its
// queries sees to the newest, in P.splits parts of P.split_len positions
// (0: the block's own range in equal parts, whole tiles). Step values come
// from a storage buffer: one invocation calls this and shares the result
// through workgroup memory, so the loops over them stay workgroup-uniform.
fn block_range(blk: u32, b: u32, split: u32, group: u32) -> vec4<u32> {
    let t0 = blk * BR / group;
    let t1 = min((blk * BR + BR - 1u) / group, P.t - 1u);
    var lo = 0xffffffffu;
    var hi = 0u;
    for (var tt = t0; tt <= t1; tt++) {
        let p = u32(step[P.pos_off + b * P.t + tt]);
        lo = min(lo, first_key(p));
        hi = max(hi, p + 1u);
    }
    var slen = P.split_len;
    if (slen == 0u) {
        slen = ((max(hi, lo) - lo + P.splits - 1u) / P.splits + BC - 1u) / BC * BC;
    }
    let slo = lo + split * slen;
    var shi = hi;
    if (split + 1u < P.splits) {
        shi = min(hi, slo + slen);
    }
    return vec4<u32>(slo, max(slo, shi), u32(step[P.slot_off + b]), 0u);
}
