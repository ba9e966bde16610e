// Sampling, passes 3 and 4: pick the next token of each row from the
// penalized logits S (sample_prep.wgsl, sample_penalty.wgsl) exactly as
// engine/sample does (see its package doc). Go compiles this file twice:
//
//   FINAL = false, the block pass: one workgroup per BS logits of a row
//   keeps the block's top k (k = min(K, block length)) sorted by value,
//   then lower index, as (value bits, index) pairs in C[row][block][MAXK].
//   The row's top K is among the blocks' (the order is strict), and this
//   spreads the scan of a large vocabulary over many workgroups.
//
//   FINAL = true, one workgroup per row over the blocks' candidates (in
//   buffer order, equal values keep ascending indices: blocks ascend and
//   each is sorted):
//     1. candidates: the top K (ties: lower index), by a 4-pass radix
//        select on order-preserving keys, collected in entry order, sorted;
//     2. w_j = exp((v_j - v_0) / temperature), summed in order;
//     3. top-p: keep the shortest prefix whose sum reaches top_p of the
//        total;
//     4. u = (h >> 8) / 2^24 with h = pcg(pcg(seed) ^ n), n the history
//        count of the row's slot (Out[slot_off + r]); pick the first j
//        whose running sum exceeds u times the kept sum.
//   The token goes to Out[out_off + r] and is appended to the slot's
//   history.
//
// Bindings are the same for both: In is S (block pass) or C (final pass),
// Out is C (block pass) or the step buffer (final pass); Hist is only
// touched by the final pass.
// FINAL (the pass) and BS (logits per block-pass workgroup) come from Go.
const WG: u32 = 256u;
const MAXK: u32 = 256u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> SP: SampleParams;
@group(0) @binding(2) var<storage, read> In: array<u32>;
@group(0) @binding(3) var<storage, read_write> Hist: array<i32>;
@group(0) @binding(4) var<storage, read_write> Out: array<i32>;

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> sel: vec2<u32>; // (digit prefix so far, count still to take at the threshold)
var<workgroup> gt_off: array<u32, WG>;
var<workgroup> eq_off: array<u32, WG>;
var<workgroup> cv: array<f32, MAXK>;
var<workgroup> ci: array<u32, MAXK>;

fn nblocks() -> u32 {
    return (P.vocab + BS - 1u) / BS;
}

// block_k is the candidates block b of a row holds.
fn block_k(b: u32) -> u32 {
    return min(SP.k, min(BS, P.vocab - b * BS));
}

fn valid(i: u32) -> bool {
    if (FINAL) {
        return i % MAXK < block_k(i / MAXK);
    }
    return true;
}

// value and index of entry i of row's entries (block blk's logits in the
// block pass, the row's candidate pairs in the final pass).
fn value(row: u32, blk: u32, i: u32) -> f32 {
    if (FINAL) {
        return bitcast<f32>(In[2u * (row * nblocks() * MAXK + i)]);
    }
    return bitcast<f32>(In[row * P.vocab + blk * BS + i]);
}

fn index(row: u32, blk: u32, i: u32) -> u32 {
    if (FINAL) {
        return In[2u * (row * nblocks() * MAXK + i) + 1u];
    }
    return blk * BS + i;
}

// okey maps floats to unsigned keys of the same order.
fn okey(v: f32) -> u32 {
    let b = bitcast<u32>(v);
    return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn pcg(x: u32) -> u32 {
    let s = x * 747796405u + 2891336453u;
    let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
    return (w >> 22u) ^ w;
}

// before reports whether candidate a sorts before b: larger value, then
// lower index.
fn before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
    return va > vb || (va == vb && ia < ib);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wid.x + wid.y * nwg.x;
    let row = select(w / nblocks(), w, FINAL);
    let blk = select(w % nblocks(), 0u, FINAL);
    if (row >= P.rows) {
        return;
    }
    // The entries selected among, and how many to keep.
    let n = select(min(BS, P.vocab - blk * BS), nblocks() * MAXK, FINAL);
    let k = select(block_k(blk), SP.k, FINAL);
    let chunk = (n + WG - 1u) / WG;
    let lo = min(lid * chunk, n);
    let hi = min(lo + chunk, n);

    // 1. Radix select of the k-th largest key, 8 bits at a time.
    if (lid == 0u) {
        sel = vec2<u32>(0u, k);
    }
    var mask = 0u;
    for (var pass_i = 0u; pass_i < 4u; pass_i++) {
        let shift = 24u - 8u * pass_i;
        atomicStore(&hist[lid], 0u);
        let cur = workgroupUniformLoad(&sel);
        // Counting needs no order: invocations stride the entries together
        // so each load of the workgroup is contiguous.
        for (var i = lid; i < n; i += WG) {
            if (!valid(i)) {
                continue;
            }
            let key = okey(value(row, blk, i));
            if ((key & mask) == cur.x) {
                atomicAdd(&hist[(key >> shift) & 255u], 1u);
            }
        }
        workgroupBarrier();
        if (lid == 0u) {
            var need = cur.y;
            var digit = 0u;
            for (var b = 255i; b >= 0; b--) {
                let c = atomicLoad(&hist[b]);
                if (c >= need) {
                    digit = u32(b);
                    break;
                }
                need -= c;
            }
            sel = vec2<u32>(cur.x | (digit << shift), need);
        }
        mask |= 255u << shift;
        workgroupBarrier(); // hist is read above before the next pass clears it
    }
    let thr = workgroupUniformLoad(&sel);
    let tkey = thr.x;
    let take_eq = thr.y;

    // 2. Collect: keys above the threshold, then the first take_eq keys equal
    // to it in entry order; each invocation owns a contiguous entry range.
    var ngt = 0u;
    var neq = 0u;
    for (var i = lo; i < hi; i++) {
        if (!valid(i)) {
            continue;
        }
        let key = okey(value(row, blk, i));
        ngt += select(0u, 1u, key > tkey);
        neq += select(0u, 1u, key == tkey);
    }
    gt_off[lid] = ngt;
    eq_off[lid] = neq;
    workgroupBarrier();
    if (lid == 0u) {
        var a = 0u;
        var e = 0u;
        for (var t = 0u; t < WG; t++) {
            let x = gt_off[t];
            gt_off[t] = a;
            a += x;
            let y = eq_off[t];
            eq_off[t] = e;
            e += y;
        }
    }
    cv[lid] = -3.4e38;
    ci[lid] = 0xffffffffu;
    workgroupBarrier();
    var go = gt_off[lid];
    var eo = eq_off[lid];
    let ngt_total = k - take_eq;
    for (var i = lo; i < hi; i++) {
        if (!valid(i)) {
            continue;
        }
        let v = value(row, blk, i);
        let key = okey(v);
        if (key > tkey) {
            cv[go] = v;
            ci[go] = index(row, blk, i);
            go++;
        } else if (key == tkey) {
            if (eo < take_eq) {
                cv[ngt_total + eo] = v;
                ci[ngt_total + eo] = index(row, blk, i);
            }
            eo++;
        }
    }
    workgroupBarrier();

    // 3. Bitonic sort of the MAXK slots (padding sorts last).
    for (var size = 2u; size <= MAXK; size <<= 1u) {
        for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
            let j = lid ^ stride;
            if (j > lid) {
                let up = (lid & size) == 0u;
                let swap = select(before(cv[lid], ci[lid], cv[j], ci[j]), before(cv[j], ci[j], cv[lid], ci[lid]), up);
                if (swap) {
                    let tv = cv[lid];
                    let ti = ci[lid];
                    cv[lid] = cv[j];
                    ci[lid] = ci[j];
                    cv[j] = tv;
                    ci[j] = ti;
                }
            }
            workgroupBarrier();
        }
    }

    if (!FINAL) {
        if (lid < k) {
            let o = 2u * ((row * nblocks() + blk) * MAXK + lid);
            Out[o] = bitcast<i32>(cv[lid]);
            Out[o + 1u] = bitcast<i32>(ci[lid]);
        }
        return;
    }

    // 4. Softmax over the candidates, top-p, and the draw, in order.
    if (lid == 0u) {
        let m = cv[0];
        var total = 0.0;
        for (var j = 0u; j < k; j++) {
            total += exp((cv[j] - m) / SP.temperature);
        }
        var kn = k;
        var kept = total;
        if (SP.top_p < 1.0) {
            var c = 0.0;
            for (var j = 0u; j < k; j++) {
                c += exp((cv[j] - m) / SP.temperature);
                if (c >= SP.top_p * total) {
                    kn = j + 1u;
                    kept = c;
                    break;
                }
            }
        }
        let hb = u32(Out[P.slot_off + row]) * (P.window + 1u);
        let count = u32(max(Hist[hb], 0));
        let h = pcg(pcg(SP.seed) ^ count);
        let u = f32(h >> 8u) / 16777216.0;
        let goal = u * kept;
        var pick = kn - 1u;
        var c = 0.0;
        for (var j = 0u; j < kn; j++) {
            c += exp((cv[j] - m) / SP.temperature);
            if (c > goal) {
                pick = j;
                break;
            }
        }
        let tok = i32(ci[pick]);
        Out[P.out_off + row] = tok;
        if (P.window > 0u) {
            Hist[hb + 1u + count % P.window] = tok;
        }
        Hist[hb] = i32(count + 1u);
    }
}
