// attention_decode.wgsl's q/k hooks for un-normed, un-rotated q and k:
// the workgroup does rope_qk.wgsl's work for the heads it reads (its query
// heads, and the fresh key when its split holds the row's position), with
// the same roundings: the RMSNorm's output (P.norm) rounded to the
// activation type, then the rotation at the row's position (pair i of P.half
// at angle pos·RT[i]: elements (i, i + half) with P.neox, else (2i, 2i+1))
// rounded again; dims past the rotated ones are only normed.
//
// RT is the layer's rope table: P.half frequencies, then with P.norm the q
// and the k norm weights (head_dim values each).
@group(0) @binding(9) var<storage, read> RT: array<f32>;

var<workgroup> k_sh: array<vec4<f32>, HQ>; // the fresh key, normed and rotated
// Σx² of each run of 32 quads: the query heads' (HQ / 32 runs a head),
// then the key's at KSS.
const KSS: u32 = MAXG * HQ / 32u;
var<workgroup> ss_sh: array<f32, KSS + HQ / 32u>;
// This invocation's entries of RT for its work item in prep_qk (item ri =
// lid % per of every head it does), loaded by stage_k with the heads.
var<private> rt_freq: f32;
var<private> rt_qw: vec2<f32>; // the q norm's weights at the item's elements
var<private> rt_kw: vec2<f32>; // the k norm's

// pair_at is the element offsets of rotation pair i in a head.
fn pair_at(i: u32) -> vec2<u32> {
    if (P.neox != 0u) {
        return vec2<u32>(i, i + P.half);
    }
    return vec2<u32>(2u * i, 2u * i + 1u);
}

// items is the work items of a head in prep_qk: its pairs, then the dims
// past the rotated ones (only normed); heads is how many heads the
// workgroup does at once (invocation lid does item lid % items of heads
// lid / items, + heads, ...).
fn items() -> u32 { return P.head_dim - P.half; }
fn heads_at_once() -> u32 { return max(1u, WG / items()); }

// note_q sums the squares of the query quads loaded (at i of q_sh) over
// runs of 32, for the heads' norms: every invocation calls it.
fn note_q(lid: u32, i: u32, x: vec4<f32>) {
    if (P.norm != 0u) {
        let t = run_sum(lid, dot(x, x), 32u);
        if (lid % 32u == 0u) {
            ss_sh[i / 32u] = t;
        }
    }
}

// stage_k loads the fresh key (KN at nb) into k_sh, raw, with its squares'
// sums, and this invocation's rope table entries: every workgroup, before
// it knows whether its split holds the key (the loads overlap the step's
// other reads; the kernel's next barrier publishes them).
fn stage_k(lid: u32, hd4: u32, nb: u32) {
    var k = vec4<f32>(0.0);
    if (lid < hd4) {
        k = vec4<f32>(KN[nb + lid]);
        k_sh[lid] = k;
    }
    if (P.norm != 0u) {
        let t = run_sum(lid, dot(k, k), 32u);
        if (lid % 32u == 0u && lid < HQ) {
            ss_sh[KSS + lid / 32u] = t;
        }
    }
    let per = items();
    if (lid < heads_at_once() * per) {
        let ri = lid % per;
        var e = vec2<u32>(P.half + ri, P.half + ri); // a lone dim (its .y unused)
        if (ri < P.half) {
            rt_freq = RT[ri];
            e = pair_at(ri);
        }
        if (P.norm != 0u) {
            rt_qw = vec2<f32>(RT[P.half + e.x], RT[P.half + e.y]);
            rt_kw = vec2<f32>(RT[P.half + P.head_dim + e.x], RT[P.half + P.head_dim + e.y]);
        }
    }
}

// head_inv is 1 / RMS of query head g (or of the key with isk), from the
// sums note_q and stage_k left.
fn head_inv(isk: bool, g: u32) -> f32 {
    let b = select(g * (HQ / 32u), KSS, isk);
    var ss = 0.0;
    for (var j = 0u; j < HQ / 32u; j++) {
        ss += ss_sh[b + j];
    }
    return 1.0 / sqrt(ss / f32(P.head_dim) + P.eps);
}

// prep_qk norms and rotates the gs query heads in q_sh and, with with_k,
// the staged key in k_sh, in place, with rope_qk.wgsl's roundings: each
// invocation one item of a head (its cos and sin taken once) for every
// heads_at_once-th head. Called in uniform control flow (with_k is
// uniform); ends with a barrier.
fn prep_qk(lid: u32, gs: u32, hd4: u32, with_k: bool, pos: u32) {
    let nh = gs + select(0u, 1u, with_k); // heads to do: the key is head gs
    let per = items();
    let hs = heads_at_once();
    if (lid < hs * per) {
        let ri = lid % per;
        let theta = f32(pos) * rt_freq;
        let c = cos(theta);
        let sn = sin(theta);
        for (var g = lid / per; g < nh; g += hs) {
            let isk = g == gs;
            var inv = 1.0;
            if (P.norm != 0u) {
                inv = head_inv(isk, g);
            }
            let w = select(rt_qw, rt_kw, isk);
            if (ri < P.half) {
                let e = pair_at(ri);
                var v = vec2<f32>(head_get(isk, g, e.x), head_get(isk, g, e.y));
                if (P.norm != 0u) {
                    v = vec2<f32>(ACT2(v * inv * w));
                }
                let y = vec2<f32>(ACT2(vec2<f32>(v.x * c - v.y * sn, v.x * sn + v.y * c)));
                head_set(isk, g, e.x, y.x);
                head_set(isk, g, e.y, y.y);
            } else if (P.norm != 0u) {
                let j = P.half + ri;
                head_set(isk, g, j, f32(ACT(head_get(isk, g, j) * inv * w.x)));
            }
        }
    }
    workgroupBarrier();
}

// head_get and head_set access element j of query head g (q_sh) or of the
// key (k_sh).
fn head_get(isk: bool, g: u32, j: u32) -> f32 {
    if (isk) {
        return k_sh[j >> 2u][j & 3u];
    }
    return q_sh[g * HQ + (j >> 2u)][j & 3u];
}

fn head_set(isk: bool, g: u32, j: u32, v: f32) {
    if (isk) {
        k_sh[j >> 2u][j & 3u] = v;
    } else {
        q_sh[g * HQ + (j >> 2u)][j & 3u] = v;
    }
}

fn fresh_k(nb: u32, i: u32) -> vec4<f32> { return k_sh[i]; }
