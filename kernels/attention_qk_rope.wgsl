// attention.wgsl's q/k hooks for decode with un-normed, un-rotated q and k:
// each workgroup does rope_qk.wgsl's work for the heads it reads (its query
// head, and the fresh key when its split holds the row's own position),
// with the same roundings: the RMSNorm's output (P.norm) rounded to the
// activation type, then the rotation at the row's position, rounded again.
//
// RT is the layer's rope table: the angle per position of each rotated
// pair (P.half values), then with P.norm the q and the k norm weights
// (head_dim values each).
@group(0) @binding(9) var<storage, read> RT: array<f32>;

// The normed and the rotated heads, in the activation type: each rounding
// is a store to workgroup memory that another invocation reads back (vec4
// i is normed by invocation i - 1 mod hd4, rotated by invocation i, then
// copied to q_sh by invocation i - 1 again), so no compiler can drop it as
// a round trip kept in registers (lavapipe's drops f32 → f16 → f32).
var<workgroup> nq_sh: array<ACT4, MAX_HD / 4u>;
var<workgroup> nk_sh: array<ACT4, MAX_HD / 4u>;
var<workgroup> rq_sh: array<ACT4, MAX_HD / 4u>;
var<workgroup> rk_sh: array<ACT4, MAX_HD / 4u>;

// normed is element j of the normed query head (isq) or fresh key.
fn normed(isq: bool, j: u32) -> f32 {
    if (isq) {
        return f32(nq_sh[j >> 2u][j & 3u]);
    }
    return f32(nk_sh[j >> 2u][j & 3u]);
}

// rope_dim is element j of the normed head rotated at angle theta0·freq as
// rope_qk.wgsl computes it; dims past the rotated ones are kept.
fn rope_dim(isq: bool, j: u32, theta0: f32) -> f32 {
    let x = normed(isq, j);
    if (j >= 2u * P.half) {
        return x;
    }
    // Pair i is (x0, x1) at elements (i, i + half) (NeoX) or (2i, 2i + 1).
    var i = j >> 1u;
    var partner = j ^ 1u;
    var first = (j & 1u) == 0u;
    if (P.neox != 0u) {
        first = j < P.half;
        i = select(j - P.half, j, first);
        partner = select(j - P.half, j + P.half, first);
    }
    let theta = theta0 * RT[i];
    let c = cos(theta);
    let s = sin(theta);
    let y = normed(isq, partner);
    if (first) {
        return x * c - y * s;
    }
    return y * s + x * c;
}

// sumsq is this invocation's part of the head's sum of squares, summed as
// rope_qk.wgsl sums it (pairs lid, lid + WG, ..., then the unrotated dims),
// so the norms agree to the bit: of the raw query head (isq, staged in
// q_sh) or fresh key (KN at vec4 nb).
fn sumsq(isq: bool, nb: u32, lid: u32) -> f32 {
    var ss = 0.0;
    for (var i = lid; i < P.half; i += WG) {
        var e = vec2<u32>(2u * i, 2u * i + 1u);
        if (P.neox != 0u) {
            e = vec2<u32>(i, i + P.half);
        }
        let x = vec2<f32>(raw(isq, nb, e.x), raw(isq, nb, e.y));
        ss += dot(x, x);
    }
    for (var i = 2u * P.half + lid; i < P.head_dim; i += WG) {
        let v = raw(isq, nb, i);
        ss += v * v;
    }
    return ss;
}

// raw is element j of the raw query head (isq) or fresh key.
fn raw(isq: bool, nb: u32, j: u32) -> f32 {
    if (isq) {
        return q_sh[j >> 2u][j & 3u];
    }
    return f32(KN[nb + (j >> 2u)][j & 3u]);
}

// norm4 is the raw vec4 x of a head at dims 4i..4i+3 normed by inv and the
// weights at RT[w0 + 4i..] (unchanged without P.norm).
fn norm4(x: vec4<f32>, inv: f32, w0: u32, i: u32) -> ACT4 {
    if (P.norm == 0u) {
        return ACT4(x);
    }
    let w = w0 + 4u * i;
    return ACT4(x * inv * vec4<f32>(RT[w], RT[w + 1u], RT[w + 2u], RT[w + 3u]));
}

// prep_qk norms and rotates the query head in q_sh (loaded raw by the
// kernel) and, with with_k, the fresh key (KN at nb) into rk_sh. Called in
// uniform control flow (with_k is uniform); ends with a barrier.
fn prep_qk(lid: u32, hd4: u32, nb: u32, with_k: bool, pos: u32) {
    let live = lid < hd4;
    let a = (lid + 1u) % hd4; // the vec4 this invocation norms, then stores
    var qx = vec4<f32>();
    var kx = vec4<f32>();
    if (live) {
        qx = q_sh[a];
        if (with_k) {
            kx = vec4<f32>(KN[nb + a]);
        }
    }
    var qinv = 1.0;
    var kinv = 1.0;
    if (P.norm != 0u) {
        let n = f32(P.head_dim);
        qinv = 1.0 / sqrt(wg_sum(lid, sumsq(true, nb, lid)) / n + P.eps);
        if (with_k) {
            kinv = 1.0 / sqrt(wg_sum(lid, sumsq(false, nb, lid)) / n + P.eps);
        }
    }
    if (live) {
        nq_sh[a] = norm4(qx, qinv, P.half, a);
        if (with_k) {
            nk_sh[a] = norm4(kx, kinv, P.half + P.head_dim, a);
        }
    }
    workgroupBarrier();
    let theta0 = f32(pos);
    if (live) {
        var qr = vec4<f32>();
        var kr = vec4<f32>();
        for (var c = 0u; c < 4u; c++) {
            qr[c] = rope_dim(true, 4u * lid + c, theta0);
            if (with_k) {
                kr[c] = rope_dim(false, 4u * lid + c, theta0);
            }
        }
        rq_sh[lid] = ACT4(qr);
        if (with_k) {
            rk_sh[lid] = ACT4(kr);
        }
    }
    workgroupBarrier();
    if (live) {
        q_sh[a] = vec4<f32>(rq_sh[a]);
    }
    workgroupBarrier();
}

// fresh_k is the fresh key's vec4 i, normed and rotated.
fn fresh_k(nb: u32, i: u32) -> ACT4 { return rk_sh[i]; }
