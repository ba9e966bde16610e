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
var<workgroup> inv_sh: array<f32, MAXG + 1u>; // 1 / RMS of each query head, then of the key

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

// stage_k loads the fresh key (KN at nb) into k_sh, raw: every workgroup,
// before it knows whether its split holds the key (the loads overlap the
// step's other reads; the kernel's next barrier publishes them).
fn stage_k(lid: u32, hd4: u32, nb: u32) {
    if (lid < hd4) {
        k_sh[lid] = vec4<f32>(KN[nb + lid]);
    }
}

// prep_qk norms and rotates the gs query heads in q_sh and, with with_k,
// the staged key in k_sh, in place: the norms of all of them at once, then
// their pairs in one loop. Called in uniform control flow (with_k is
// uniform); ends with a barrier.
fn prep_qk(lid: u32, gs: u32, hd4: u32, with_k: bool, pos: u32) {
    let nh = gs + select(0u, 1u, with_k); // heads to do: the key is head gs
    if (P.norm != 0u) {
        if (lid < gs) {
            inv_sh[lid] = head_inv(false, lid * HQ, hd4);
        } else if (lid == gs && with_k) {
            inv_sh[MAXG] = head_inv(true, 0u, hd4);
        }
        workgroupBarrier();
    }
    let rest = P.head_dim - 2u * P.half; // dims past the rotated ones
    let per = P.half + rest;              // work items per head: pairs, then lone dims
    for (var w = lid; w < nh * per; w += WG) {
        let g = w / per;
        let i = w % per;
        let isk = g == gs;
        let inv = inv_sh[select(g, MAXG, isk)];
        let w0 = select(P.half, P.half + P.head_dim, isk); // its norm weights in RT
        if (i < P.half) {
            let e = pair_at(i);
            let y = rope_elems(vec2<f32>(head_get(isk, g, e.x), head_get(isk, g, e.y)), e, inv, w0, f32(pos) * RT[i]);
            head_set(isk, g, e.x, y.x);
            head_set(isk, g, e.y, y.y);
        } else if (P.norm != 0u) {
            let j = 2u * P.half + i - P.half;
            head_set(isk, g, j, f32(ACT(head_get(isk, g, j) * inv * RT[w0 + j])));
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
