// The prompt-chunk attention kernels' common part (attention_prefill.wgsl,
// attention_block.wgsl), which define HD4 (head_dim / 4), BR (queries per
// block) and BC (keys per tile): their bindings, which block of queries a
// workgroup attends and what it sees.
const NEG: f32 = -3.0e38;

// Q [rows, heads, head_dim]; the caches; the step buffer (positions,
// slots); O like Q, or with several splits each split's (max, sum, 0, 0)
// and accumulator quads in Part (attention_combine.wgsl's layout).
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Q: array<ACT4>;
@group(0) @binding(2) var<storage, read> KC: array<ACT4>;
@group(0) @binding(3) var<storage, read> VC: array<ACT4>;
@group(0) @binding(4) var<storage, read> step: array<i32>;
@group(0) @binding(5) var<storage, read_write> O: array<ACT4>;
@group(0) @binding(6) var<storage, read_write> Part: array<vec4<f32>>;

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

// BlockAt is what workgroup g attends: split split of block blk (of BR
// queries) of KV head kvh of sequence b, group query heads per KV head;
// live is false for surplus workgroups.
struct BlockAt {
    live: bool,
    split: u32,
    blk: u32,
    kvh: u32,
    b: u32,
    group: u32,
}

// block_at places workgroup g: splits fastest, then blocks, KV heads and
// sequences.
fn block_at(g: u32) -> BlockAt {
    let bg = g / P.splits;
    return BlockAt(bg < P.groups, g % P.splits, bg % P.blocks, (bg / P.blocks) % P.kv_heads, bg / (P.blocks * P.kv_heads),
        P.heads / P.kv_heads);
}

// kv_at is the index of a cache's vec4 d4 of key position kp of KV head
// kvh, the sequence's slot starting at row kv_base.
fn kv_at(kv_base: u32, kp: u32, kvh: u32, d4: u32) -> u32 {
    return ((kv_base + kp % P.cache_len) * P.kv_heads + kvh) * HD4 + d4;
}

// query_at is the first vec4 of query flat of at's block (row t·group + g
// of the chunk, so head kvh·group + g of row t) in Q and O: flat past the
// chunk reads the last row's.
fn query_at(at: BlockAt, flat: u32) -> u32 {
    let r = at.b * P.t + min(flat / at.group, P.t - 1u);
    return (r * P.heads + at.kvh * at.group + flat % at.group) * HD4;
}

// pos_at is the position of query flat of at's block (flat past the chunk:
// the last row's).
fn pos_at(at: BlockAt, flat: u32) -> u32 {
    return u32(step[P.pos_off + at.b * P.t + min(flat / at.group, P.t - 1u)]);
}

var<workgroup> range_sh: vec4<u32>;
// The block's rows' oldest first key (complemented, so that the zeroed
// start is the identity of atomicMax) and newest position + 1.
var<workgroup> span_sh: array<atomic<u32>, 2>;

// shared_range is block_range(at) shared through workgroup memory
// (uniform: the kernels loop over it). Every invocation loads one of the
// block's rows' positions at once, one memory round trip (one invocation
// looping over up to BR rows made the blocked kernel 3–14% slower on an
// H100; workgroup memory starts zeroed, as WGSL guarantees).
fn shared_range(lid: u32, at: BlockAt) -> vec4<u32> {
    var slot = 0u;
    if (lid == 0u) {
        slot = u32(step[P.slot_off + at.b]);
    }
    let t0 = at.blk * BR / at.group;
    let t1 = min((at.blk * BR + BR - 1u) / at.group, P.t - 1u);
    for (var tt = t0 + lid; tt <= t1; tt += WG) {
        let p = u32(step[P.pos_off + at.b * P.t + tt]);
        atomicMax(&span_sh[0], ~first_key(p));
        atomicMax(&span_sh[1], p + 1u);
    }
    workgroupBarrier();
    if (lid == 0u) {
        range_sh = block_range(at, ~atomicLoad(&span_sh[0]), atomicLoad(&span_sh[1]), slot);
    }
    return workgroupUniformLoad(&range_sh);
}

// store_quad stores quad c (head_dim elements 4c .. 4c+3) of the
// accumulator v of the query whose vec4s start at qb (query_at) with its
// softmax sum l: normalized into O with one split, else as is into its
// split's Part record.
fn store_quad(at: BlockAt, qb: u32, c: u32, v: vec4<f32>, l: f32) {
    if (P.splits == 1u) {
        O[qb + c] = ACT4(v / l);
    } else {
        Part[part_at(at, qb) + 1u + c] = v;
    }
}

// store_stats stores the query's softmax max m and sum l with several
// splits (nothing with one), and live, its block's splits that hold keys
// (block_range's w): the combine reads that many of its records.
fn store_stats(at: BlockAt, qb: u32, m: f32, l: f32, live: u32) {
    if (P.splits > 1u) {
        Part[part_at(at, qb)] = vec4<f32>(m, l, f32(live), 0.0);
    }
}

// idle is true for a workgroup whose split holds none of its block's keys
// where the combine reads only the live splits' records (P.counted): it
// may return at once (rng from shared_range: uniform).
fn idle(at: BlockAt, rng: vec4<u32>) -> bool {
    return P.counted != 0u && at.split >= rng.w;
}

// part_at is the first vec4 of the Part record of split at.split of the
// query whose vec4s start at qb (attention.wgsl's layout).
fn part_at(at: BlockAt, qb: u32) -> u32 {
    return ((qb / HD4) * P.splits + at.split) * (HD4 + 1u);
}

// block_range is at's key positions [x, y) from lo, the oldest key any of
// its block's queries sees, and hi, the newest position + 1 (its block's
// queries are rows t·group + g of the chunk, in blocks of BR), z the first
// cache row of the sequence's slot slot and w how many of the block's
// splits hold keys (the first w): lo..hi in P.splits parts of P.split_len
// positions (0: the block's own range in equal parts, whole tiles).
fn block_range(at: BlockAt, lo: u32, hi: u32, slot: u32) -> vec4<u32> {
    var slen = P.split_len;
    if (slen == 0u) {
        slen = ((max(hi, lo) - lo + P.splits - 1u) / P.splits + BC - 1u) / BC * BC;
    }
    let slo = lo + at.split * slen;
    var shi = hi;
    if (at.split + 1u < P.splits) {
        shi = min(hi, slo + slen);
    }
    let live = min(P.splits, (max(hi, lo) - lo + slen - 1u) / slen);
    return vec4<u32>(slo, max(slo, shi), slot * P.cache_len, live);
}
