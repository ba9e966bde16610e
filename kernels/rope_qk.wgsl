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
    var inv = 1.0;
    if (P.norm != 0u) {
        var ss = 0.0;
        if (live) {
            for (var i = lid; i < P.head_dim; i += WG) {
                let v = ld(isq, base + i);
                ss += v * v;
            }
        }
        inv = 1.0 / sqrt(wg_sum(lid, ss) / f32(P.head_dim) + P.eps);
    }
    if (!live) {
        return;
    }
    let theta0 = f32(pos[P.pos_off + r]);
    for (var i = lid; i < P.half; i += WG) {
        var j = 2u * i;
        var k = 2u * i + 1u;
        if (P.neox != 0u) {
            j = i;
            k = i + P.half;
        }
        var x0 = ld(isq, base + j);
        var x1 = ld(isq, base + k);
        if (P.norm != 0u) {
            x0 = f32(ACT(x0 * inv * nw(isq, j)));
            x1 = f32(ACT(x1 * inv * nw(isq, k)));
        }
        let theta = theta0 * freqs[i];
        let c = cos(theta);
        let s = sin(theta);
        st(isq, base + j, x0 * c - x1 * s);
        st(isq, base + k, x0 * s + x1 * c);
    }
    // Dims past the rotated ones are only normed.
    if (P.norm != 0u) {
        for (var i = 2u * P.half + lid; i < P.head_dim; i += WG) {
            st(isq, base + i, ld(isq, base + i) * inv * nw(isq, i));
        }
    }
}
