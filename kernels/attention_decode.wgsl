// Decode attention (one query row per sequence) by KV head: one workgroup
// per (row, KV head, split) attends all GS = heads / kv_heads query heads
// of that KV head over the split's keys (attention.wgsl's rules: key kp is
// visible from position pos when kp ≤ pos and, with a window w, pos - kp <
// w; split s covers [first + s·split_len, ...)). Each cached key and value
// is loaded once per group instead of once per query head, and a tile's
// KT keys are loaded at once: a step waits on few memory round trips.
//
// Per tile: every invocation loads its quads of keys and values at once;
// TPK invocations share a key's dot products with every query head, summed
// over the row group; one invocation per head takes the tile's max and sum
// (a short unrolled loop, cheaper than a tree of barriers); the value pass
// gives each invocation a quad of dims and every VG-th key of the tile.
// Results go to Part as
// attention.wgsl writes them (max, sum, acc[head_dim] per query head and
// split) for attention_combine.wgsl, or with one split straight to O.
//
// The row's own key and value come from KN/VN (P.fresh) and the workgroup
// whose split holds that position stores them in the cache. The pipeline
// includes the q/k hooks stage_k, prep_qk and fresh_k from
// attention_decode_plain.wgsl (q and k arrive normed and rotated) or
// attention_decode_rope.wgsl (the workgroup norms and rotates them itself:
// rope_qk.wgsl's launch fewer).
const WG: u32 = 256u;
// KT, the keys per tile, and RS = WG / KT come from the Go side.
const TPK: u32 = WG / KT; // invocations per key: rg_sum4's row group
const_assert RS == TPK;
const MAXG: u32 = 8u;     // query heads per KV head
const HQ: u32 = 64u;      // quads per head (head_dim ≤ 256)
const KQ: u32 = HQ / TPK; // quads of a key row per invocation
const VG: u32 = WG / HQ;  // key groups of the value pass
const NEG: f32 = -3.0e38;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Q: array<ACT4>;
@group(0) @binding(2) var<storage, read_write> KC: array<ACT4>;
@group(0) @binding(3) var<storage, read_write> VC: array<ACT4>;
@group(0) @binding(4) var<storage, read> step: array<i32>;
@group(0) @binding(5) var<storage, read_write> O: array<ACT4>;
@group(0) @binding(6) var<storage, read_write> Part: array<f32>;
@group(0) @binding(7) var<storage, read> KN: array<ACT4>;
@group(0) @binding(8) var<storage, read> VN: array<ACT4>;

var<workgroup> q_sh: array<vec4<f32>, MAXG * HQ>;
var<workgroup> s_sh: array<f32, MAXG * KT>; // scores, then weights: [head][key]
var<workgroup> m_sh: array<f32, MAXG>;      // running max per head
var<workgroup> l_sh: array<f32, MAXG>;      // running sum per head
var<workgroup> c_sh: array<f32, MAXG>;      // the tile's correction per head
var<workgroup> range_sh: vec4<u32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let g0 = wid.x + wid.y * nwg.x;
    let split = g0 % P.splits;
    let rk = g0 / P.splits;
    if (rk >= P.rows * P.kv_heads) {
        return;
    }
    let r = rk / P.kv_heads;
    let kvh = rk % P.kv_heads;
    let gs = P.heads / P.kv_heads;
    let hd = P.head_dim;
    let hd4 = hd / 4u;
    if (lid == 0u) {
        range_sh = split_range(r, split); // attention_range.wgsl
    }
    if (lid < MAXG) {
        m_sh[lid] = NEG;
        l_sh[lid] = 0.0;
    }
    // The group's query heads, head g at q_sh[g·HQ ..].
    let qh0 = r * P.heads + kvh * gs;
    for (var i = lid; i < gs * HQ; i += WG) {
        if (i % HQ < hd4) {
            q_sh[i] = vec4<f32>(Q[(qh0 + i / HQ) * hd4 + i % HQ]);
        }
    }
    let nb = (r * P.kv_heads + kvh) * hd4;
    stage_k(lid, hd4, nb);
    let rng = workgroupUniformLoad(&range_sh); // also publishes q_sh, m_sh, l_sh (and a staged key)
    let lo = rng.x;
    let hi = rng.y;
    let slot_base = rng.z * P.cache_len;
    let own = select(0xffffffffu, rng.w, P.fresh != 0u);
    // The q/k hooks (attention_decode_plain.wgsl, or _rope.wgsl norming
    // and rotating q and, where this split holds it, the fresh key here).
    let holds_own = own >= lo && own < hi;
    prep_qk(lid, gs, hd4, holds_own, rng.w);
    if (holds_own) {
        if (lid < hd4) {
            let cb = ((slot_base + own % P.cache_len) * P.kv_heads + kvh) * hd4 + lid;
            KC[cb] = ACT4(fresh_k(nb, lid));
            VC[cb] = VN[nb + lid];
        }
    }

    let kk = lid / TPK;
    let part = lid % TPK;
    let dq = lid % HQ;
    let vg = lid / HQ;
    var acc: array<vec4<f32>, MAXG>;
    for (var tile = lo; tile < hi; tile += KT) {
        // This invocation's values for the value pass below, loaded now so
        // that they are in flight with the keys.
        var vv: array<vec4<f32>, KT / VG>;
        if (dq < hd4) {
            for (var j = 0u; j < KT / VG; j++) {
                let vp = tile + vg + j * VG;
                if (vp < hi) {
                    if (vp == own) {
                        vv[j] = vec4<f32>(VN[nb + dq]);
                    } else {
                        vv[j] = vec4<f32>(VC[((slot_base + vp % P.cache_len) * P.kv_heads + kvh) * hd4 + dq]);
                    }
                }
            }
        }
        // Scores: this invocation's quads of key kk against every head.
        let kp = tile + kk;
        var s: array<f32, MAXG>;
        if (kp < hi) {
            var kv: array<vec4<f32>, KQ>;
            let kb = ((slot_base + kp % P.cache_len) * P.kv_heads + kvh) * hd4;
            for (var i = 0u; i < KQ; i++) {
                let d = part + i * TPK;
                if (d < hd4) {
                    if (kp == own) {
                        kv[i] = fresh_k(nb, d);
                    } else {
                        kv[i] = vec4<f32>(KC[kb + d]);
                    }
                }
            }
            for (var g = 0u; g < MAXG; g++) {
                if (g < gs) {
                    var a = 0.0;
                    for (var i = 0u; i < KQ; i++) {
                        let d = part + i * TPK;
                        if (d < hd4) {
                            a += dot(q_sh[g * HQ + d], kv[i]);
                        }
                    }
                    s[g] = a;
                }
            }
        }
        let s0 = rg_sum4(lid, vec4<f32>(s[0], s[1], s[2], s[3]));
        var s1 = vec4<f32>(0.0);
        if (gs > 4u) {
            s1 = rg_sum4(lid, vec4<f32>(s[4], s[5], s[6], s[7]));
        }
        if (part == 0u) {
            for (var g = 0u; g < gs; g++) {
                var sc = NEG;
                if (kp < hi) {
                    sc = select(s1[g & 3u], s0[g & 3u], g < 4u) * P.scale;
                    if (P.softcap > 0.0) {
                        sc = tanh(clamp(sc / P.softcap, -15.0, 15.0)) * P.softcap;
                    }
                }
                s_sh[g * KT + kk] = sc;
            }
        }
        workgroupBarrier();
        // Per head: the tile's max, the correction of what came before.
        if (lid < gs) {
            var mx = NEG;
            for (var k = 0u; k < KT; k++) {
                mx = max(mx, s_sh[lid * KT + k]);
            }
            let mn = max(m_sh[lid], mx);
            c_sh[lid] = exp(m_sh[lid] - mn);
            m_sh[lid] = mn;
        }
        workgroupBarrier();
        // Weights, in place of the scores (masked keys give 0).
        if (lid < gs * KT) {
            let g = lid / KT;
            s_sh[lid] = exp(s_sh[lid] - m_sh[g]);
        }
        workgroupBarrier();
        if (lid < gs) {
            var ls = 0.0;
            for (var k = 0u; k < KT; k++) {
                ls += s_sh[lid * KT + k];
            }
            l_sh[lid] = l_sh[lid] * c_sh[lid] + ls;
        }
        // Values: dims 4dq..4dq+3 of keys vg, vg+VG, ... of the tile
        // (loaded with the keys).
        if (dq < hd4) {
            for (var g = 0u; g < MAXG; g++) {
                if (g < gs) {
                    var a = acc[g] * c_sh[g];
                    for (var j = 0u; j < KT / VG; j++) {
                        a += s_sh[g * KT + vg + j * VG] * vv[j];
                    }
                    acc[g] = a;
                }
            }
        }
        workgroupBarrier(); // s_sh, c_sh and l_sh are rewritten by the next tile
    }
    // Each head's dims summed over the key groups (rg_red is free now).
    for (var g = 0u; g < gs; g++) {
        rg_red[lid] = acc[g];
        workgroupBarrier();
        if (lid < hd4) {
            var o = rg_red[lid];
            for (var k = 1u; k < VG; k++) {
                o += rg_red[k * HQ + lid];
            }
            let rh = qh0 + g;
            if (P.splits == 1u) {
                O[rh * hd4 + lid] = ACT4(o / l_sh[g]);
            } else {
                let pb = (rh * P.splits + split) * (hd + 2u);
                if (lid == 0u) {
                    Part[pb] = m_sh[g];
                    Part[pb + 1u] = l_sh[g];
                }
                for (var c = 0u; c < 4u; c++) {
                    Part[pb + 2u + 4u * lid + c] = o[c];
                }
            }
        }
        workgroupBarrier();
    }
}
