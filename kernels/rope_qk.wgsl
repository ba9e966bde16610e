// Queries and keys of one step in one pass: optionally an RMSNorm of every
// head (Qwen3's and Gemma 3's q_norm/k_norm; its output rounded to the
// activation type, as the separate norm would store it), then the rotary
// embedding as rope.wgsl does it, in place. One workgroup per (row, head),
// query heads first, then key heads.
const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> Q: array<ACT>;
@group(0) @binding(2) var<storage, read_write> K: array<ACT>;
@group(0) @binding(3) var<storage, read> pos: array<i32>;
@group(0) @binding(4) var<storage, read> freqs: array<f32>;
@group(0) @binding(5) var<storage, read> QN: array<f32>;
@group(0) @binding(6) var<storage, read> KN: array<f32>;

fn ld(isq: bool, i: u32) -> f32 {
    if (isq) {
        return f32(Q[i]);
    }
    return f32(K[i]);
}

fn st(isq: bool, i: u32, v: f32) {
    if (isq) {
        Q[i] = ACT(v);
    } else {
        K[i] = ACT(v);
    }
}

fn nw(isq: bool, i: u32) -> f32 {
    if (isq) {
        return QN[i];
    }
    return KN[i];
}

// pair returns the element indices of rotation pair i.
fn pair(i: u32) -> vec2<u32> {
    if (P.neox != 0u) {
        return vec2<u32>(i, i + P.half);
    }
    return vec2<u32>(2u * i, 2u * i + 1u);
}

// rotate norms (when P.norm is set) and rotates the pair (x0, x1) at
// elements e with the angle theta and stores it.
fn rotate(isq: bool, base: u32, e: vec2<u32>, x: vec2<f32>, w: vec2<f32>, inv: f32, theta: f32) {
    var x0 = x.x;
    var x1 = x.y;
    if (P.norm != 0u) {
        x0 = f32(ACT(x0 * inv * w.x));
        x1 = f32(ACT(x1 * inv * w.y));
    }
    let c = cos(theta);
    let s = sin(theta);
    st(isq, base + e.x, x0 * c - x1 * s);
    st(isq, base + e.y, x0 * s + x1 * c);
}

// A launch is mostly latency: each invocation loads its first NP pairs
// (their values, norm weights and frequencies) before the reduction, in a
// loop of constant trip count whose arrays stay in registers; pairs past
// NP·WG and dims past the rotated ones are read as they go.
const NP: u32 = 2u;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let g = wid.x + wid.y * nwg.x;
    let heads = P.q_heads + P.k_heads;
    // Workgroups past the end still reach the reduction's barriers.
    let live = g < P.rows * heads;
    let r = min(g / heads, P.rows - 1u);
    let h = g % heads;
    let isq = h < P.q_heads;
    var base = (r * P.k_heads + h - P.q_heads) * P.head_dim;
    if (isq) {
        base = (r * P.q_heads + h) * P.head_dim;
    }
    let theta0 = f32(pos[P.pos_off + r]);
    var xs: array<vec2<f32>, NP>;
    var ws: array<vec2<f32>, NP>;
    var fs: array<f32, NP>;
    var ss = 0.0;
    for (var c = 0u; c < NP; c++) {
        let i = lid + c * WG;
        if (live && i < P.half) {
            let e = pair(i);
            xs[c] = vec2<f32>(ld(isq, base + e.x), ld(isq, base + e.y));
            if (P.norm != 0u) {
                ws[c] = vec2<f32>(nw(isq, e.x), nw(isq, e.y));
            }
            fs[c] = freqs[i];
            ss += dot(xs[c], xs[c]);
        }
    }
    var inv = 1.0;
    if (P.norm != 0u) {
        if (live) {
            for (var i = lid + NP * WG; i < P.half; i += WG) {
                let e = pair(i);
                let x = vec2<f32>(ld(isq, base + e.x), ld(isq, base + e.y));
                ss += dot(x, x);
            }
            for (var i = 2u * P.half + lid; i < P.head_dim; i += WG) {
                let v = ld(isq, base + i);
                ss += v * v;
            }
        }
        inv = 1.0 / sqrt(wg_sum(lid, ss) / f32(P.head_dim) + P.eps);
    }
    if (!live) {
        return;
    }
    for (var c = 0u; c < NP; c++) {
        let i = lid + c * WG;
        if (i < P.half) {
            rotate(isq, base, pair(i), xs[c], ws[c], inv, theta0 * fs[c]);
        }
    }
    for (var i = lid + NP * WG; i < P.half; i += WG) {
        let e = pair(i);
        var w = vec2<f32>(1.0);
        if (P.norm != 0u) {
            w = vec2<f32>(nw(isq, e.x), nw(isq, e.y));
        }
        rotate(isq, base, e, vec2<f32>(ld(isq, base + e.x), ld(isq, base + e.y)), w, inv, theta0 * freqs[i]);
    }
    // Dims past the rotated ones are only normed.
    if (P.norm != 0u) {
        for (var i = 2u * P.half + lid; i < P.head_dim; i += WG) {
            st(isq, base + i, ld(isq, base + i) * inv * nw(isq, i));
        }
    }
}
