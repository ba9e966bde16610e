// Sampling, pass 2: one workgroup per row picks the next token from the
// penalized logits S (sample_prep.wgsl) exactly as gpuops.SampleCPU does:
//  1. candidates: the top K values (ties: lower index), by a 4-pass radix
//     select on order-preserving keys, collected in index order, sorted;
//  2. w_j = exp((v_j - v_0) / temperature), summed in order;
//  3. top-p: keep the shortest prefix whose sum reaches top_p of the total;
//  4. u = rand(seed, n, row) in [0,1) with n the row's history count; pick
//     the first j whose running sum exceeds u times the kept sum.
// The token goes to out[out_off + r] and is appended to the history.
const WG: u32 = 256u;
const MAXK: u32 = 256u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> SP: SampleParams;
@group(0) @binding(2) var<storage, read> S: array<f32>;
@group(0) @binding(3) var<storage, read_write> Hist: array<i32>;
@group(0) @binding(4) var<storage, read_write> out: array<i32>;

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> sel: vec2<u32>; // (digit prefix so far, count still to take at the threshold)
var<workgroup> gt_off: array<u32, WG>;
var<workgroup> eq_off: array<u32, WG>;
var<workgroup> cv: array<f32, MAXK>;
var<workgroup> ci: array<u32, MAXK>;

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
    let r = wid.x + wid.y * nwg.x;
    if (r >= P.rows) {
        return;
    }
    let base = r * P.vocab;
    let k = SP.k;
    let chunk = (P.vocab + WG - 1u) / WG;
    let lo = min(lid * chunk, P.vocab);
    let hi = min(lo + chunk, P.vocab);

    // 1. Radix select of the k-th largest key, 8 bits at a time.
    if (lid == 0u) {
        sel = vec2<u32>(0u, k);
    }
    var mask = 0u;
    for (var pass_i = 0u; pass_i < 4u; pass_i++) {
        let shift = 24u - 8u * pass_i;
        atomicStore(&hist[lid], 0u);
        let cur = workgroupUniformLoad(&sel);
        for (var i = lo; i < hi; i++) {
            let key = okey(S[base + i]);
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
    // to it in index order; each invocation owns a contiguous index range.
    var ngt = 0u;
    var neq = 0u;
    for (var i = lo; i < hi; i++) {
        let key = okey(S[base + i]);
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
        let v = S[base + i];
        let key = okey(v);
        if (key > tkey) {
            cv[go] = v;
            ci[go] = i;
            go++;
        } else if (key == tkey) {
            if (eo < take_eq) {
                cv[ngt_total + eo] = v;
                ci[ngt_total + eo] = i;
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

    // 4. Softmax over the candidates, top-p, and the draw, in order.
    if (lid == 0u) {
        let m = cv[0];
        var total = 0.0;
        for (var j = 0u; j < k; j++) {
            total += exp((cv[j] - m) / SP.temperature);
        }
        var n = k;
        var kept = total;
        if (SP.top_p < 1.0) {
            var c = 0.0;
            for (var j = 0u; j < k; j++) {
                c += exp((cv[j] - m) / SP.temperature);
                if (c >= SP.top_p * total) {
                    n = j + 1u;
                    kept = c;
                    break;
                }
            }
        }
        let hb = r * (P.window + 1u);
        let count = u32(max(Hist[hb], 0));
        let h = pcg(pcg(pcg(SP.seed) ^ count) ^ r);
        let u = f32(h >> 8u) / 16777216.0;
        let goal = u * kept;
        var pick = n - 1u;
        var c = 0.0;
        for (var j = 0u; j < n; j++) {
            c += exp((cv[j] - m) / SP.temperature);
            if (c > goal) {
                pick = j;
                break;
            }
        }
        let tok = i32(ci[pick]);
        out[P.out_off + r] = tok;
        if (P.window > 0u) {
            Hist[hb + 1u + count % P.window] = tok;
        }
        Hist[hb] = i32(count + 1u);
    }
}
