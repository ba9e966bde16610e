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
var<workgroup> inv_sh: array<f32, MAXG>;   // 1 / RMS of each query head (then of the key)

// pair_at is the element offsets of rotation pair i in a head.
fn pair_at(i: u32) -> vec2<u32> {
    if (P.neox != 0u) {
        return vec2<u32>(i, i + P.half);
    }
    return vec2<u32>(2u * i, 2u * i + 1u);
}

// rope_elems is the pair x at elements e of a head normed (by inv and the
// weights at RT[w0..]) and rotated by theta, each step rounded.
fn rope_elems(x: vec2<f32>, e: vec2<u32>, inv: f32, w0: u32, theta: f32) -> vec2<f32> {
    var v = x;
    if (P.norm != 0u) {
        v = vec2<f32>(ACT2(v * inv * vec2<f32>(RT[w0 + e.x], RT[w0 + e.y])));
    }
    let c = cos(theta);
    let s = sin(theta);
    return vec2<f32>(ACT2(vec2<f32>(v.x * c - v.y * s, v.x * s + v.y * c)));
}

// head_inv is 1 / RMS of the head at quad base of q_sh (or k_sh with isk).
fn head_inv(isk: bool, base: u32, hd4: u32) -> f32 {
    var ss = 0.0;
    for (var i = 0u; i < HQ; i++) { // constant trip count: unrolled, reads pipelined
        if (i < hd4) {
            var x = q_sh[base + i];
            if (isk) {
                x = k_sh[i];
            }
            ss += dot(x, x);
        }
    }
    return 1.0 / sqrt(ss / f32(P.head_dim) + P.eps);
}

// prep_q norms and rotates the gs query heads in q_sh (loaded raw).
// Called in uniform control flow; ends with a barrier.
fn prep_q(lid: u32, gs: u32, hd4: u32, pos: u32) {
    if (P.norm != 0u) {
        if (lid < gs) {
            inv_sh[lid] = head_inv(false, lid * HQ, hd4);
        }
        workgroupBarrier();
    }
    let hd = P.head_dim;
    let rest = hd - 2u * P.half; // dims past the rotated ones
    let per = P.half + rest;     // work items per head: pairs, then lone dims
    for (var w = lid; w < gs * per; w += WG) {
        let g = w / per;
        let i = w % per;
        let base = g * HQ;
        if (i < P.half) {
            let e = pair_at(i);
            let x = vec2<f32>(q_sh[base + (e.x >> 2u)][e.x & 3u], q_sh[base + (e.y >> 2u)][e.y & 3u]);
            let y = rope_elems(x, e, inv_sh[g], P.half, f32(pos) * RT[i]);
            q_sh[base + (e.x >> 2u)][e.x & 3u] = y.x;
            q_sh[base + (e.y >> 2u)][e.y & 3u] = y.y;
        } else if (P.norm != 0u) {
            let j = 2u * P.half + i - P.half;
            q_sh[base + (j >> 2u)][j & 3u] = f32(ACT(q_sh[base + (j >> 2u)][j & 3u] * inv_sh[g] * RT[P.half + j]));
        }
    }
    workgroupBarrier();
}

// prep_k stages the fresh key (KN at nb) normed and rotated in k_sh. Called
// in uniform control flow by the workgroup whose split holds the row's
// position; ends with a barrier.
fn prep_k(lid: u32, hd4: u32, nb: u32, pos: u32) {
    if (lid < hd4) {
        k_sh[lid] = vec4<f32>(KN[nb + lid]);
    }
    workgroupBarrier();
    if (P.norm != 0u) {
        if (lid == 0u) {
            inv_sh[0] = head_inv(true, 0u, hd4);
        }
        workgroupBarrier();
    }
    let rest = P.head_dim - 2u * P.half;
    let w0 = P.half + P.head_dim; // the k norm weights
    for (var i = lid; i < P.half + rest; i += WG) {
        if (i < P.half) {
            let e = pair_at(i);
            let x = vec2<f32>(k_sh[e.x >> 2u][e.x & 3u], k_sh[e.y >> 2u][e.y & 3u]);
            let y = rope_elems(x, e, inv_sh[0], w0, f32(pos) * RT[i]);
            k_sh[e.x >> 2u][e.x & 3u] = y.x;
            k_sh[e.y >> 2u][e.y & 3u] = y.y;
        } else if (P.norm != 0u) {
            let j = 2u * P.half + i - P.half;
            k_sh[j >> 2u][j & 3u] = f32(ACT(k_sh[j >> 2u][j & 3u] * inv_sh[0] * RT[w0 + j]));
        }
    }
    workgroupBarrier();
}

fn fresh_k(nb: u32, i: u32) -> vec4<f32> { return k_sh[i]; }
