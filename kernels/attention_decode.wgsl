// Decode attention (one query row per sequence) by KV head: one workgroup
// per (row, KV head, split) attends all GS = heads / kv_heads query heads
// of that KV head over the split's keys (attention.wgsl's rules: key kp is
// visible from position pos when kp ≤ pos and, with a window w, pos - kp <
// w; split s covers [first + s·split_len, ...)). Each cached key and value
// is loaded once per group instead of once per query head, and a tile's
// KT keys are loaded at once: a step waits on few memory round trips.
//
// Per tile: every invocation loads its quads of keys and values at once
// (the first tile's before the q/k hooks' work, the next tile's keys and
// values as soon as this tile's scores are taken); TPK invocations share a
// key's dot products with every query head, summed over the row group; a
// run of KT invocations per head (one per key) takes the tile's max and sum
// (run_max, run_sum: subgroup shuffles on GPUs) and keeps the head's running
// max and sum in registers; the value pass gives each invocation a quad of
// dims and every VG-th key of the tile.
// Results go to Part as
// attention.wgsl writes them (max, sum, acc[head_dim] per query head and
// split) for attention_combine.wgsl, or with one split straight to O.
//
// The row's own key and value come from KN/VN (P.fresh) and the workgroup
// whose split holds that position stores them in the cache. The pipeline
// includes the q/k hooks note_q, stage_k, prep_qk and fresh_k from
// attention_decode_plain.wgsl (q and k arrive normed and rotated) or
// attention_decode_rope.wgsl (the workgroup norms and rotates them itself:
// rope_qk.wgsl's launch fewer).
const WG: u32 = 256u;
// KT, the keys per tile, and RS = WG / KT come from the Go side.
const TPK: u32 = WG / KT; // invocations per key: rg_sum4's row group
const_assert RS == TPK;
const_assert KT == 32u; // a head's scores of a tile are a run of run_max/run_sum
const MAXG: u32 = 8u;     // query heads per KV head
const HQ: u32 = 64u;      // quads per head (head_dim ≤ 256)
const KQ: u32 = HQ / TPK; // quads of a key row per invocation
const VG: u32 = WG / HQ;  // key groups of the value pass
const_assert MAXG * KT == WG; // the softmax: an invocation per head and key
const NEG: f32 = -3.0e38;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Q: array<ACT4>;
@group(0) @binding(2) var<storage, read_write> KC: array<ACT4>;
@group(0) @binding(3) var<storage, read_write> VC: array<ACT4>;
@group(0) @binding(4) var<storage, read> step: array<i32>;
@group(0) @binding(5) var<storage, read_write> O: array<ACT4>;
@group(0) @binding(6) var<storage, read_write> Part: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> KN: array<ACT4>;
@group(0) @binding(8) var<storage, read> VN: array<ACT4>;

var<workgroup> q_sh: array<vec4<f32>, MAXG * HQ>;
var<workgroup> s_sh: array<f32, MAXG * KT>; // scores, then weights: [head][key]
var<workgroup> m_sh: array<f32, MAXG>;      // max per head, at the end
var<workgroup> l_sh: array<f32, MAXG>;      // sum per head, at the end
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
    // The group's query heads, head g at q_sh[g·HQ ..] (note_q sees each
    // round's quads: the rope hooks sum their squares for the heads' norms).
    let qh0 = r * P.heads + kvh * gs;
    for (var it = 0u; it < MAXG * HQ / WG; it++) {
        if (it * WG >= gs * HQ) {
            break;
        }
        let i = lid + it * WG;
        var x = vec4<f32>(0.0);
        if (i < gs * HQ && i % HQ < hd4) {
            x = vec4<f32>(Q[(qh0 + i / HQ) * hd4 + i % HQ]);
            q_sh[i] = x;
        }
        note_q(lid, i, x);
    }
    let nb = (r * P.kv_heads + kvh) * hd4;
    stage_k(lid, hd4, nb);
    let rng = workgroupUniformLoad(&range_sh); // also publishes q_sh (and a staged key)
    let lo = rng.x;
    let hi = rng.y;
    let slot_base = rng.z * P.cache_len;
    let own = select(0xffffffffu, rng.w, P.fresh != 0u);
    let kk = lid / TPK;
    let part = lid % TPK;
    let dq = lid % HQ;
    let vg = lid / HQ;
    // The first tile's keys and values, in flight while the q/k hooks
    // work (the row's own key is taken once they have rotated it).
    var kv = load_keys(lo, hi, own, false, slot_base, kvh, hd4, nb, kk, part);
    var vv = load_values(lo, hi, own, slot_base, kvh, hd4, nb, dq, vg);
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
        if (lo + kk == own) {
            for (var i = 0u; i < KQ; i++) {
                let d = part + i * TPK;
                if (d < hd4) {
                    kv[i] = fresh_k(nb, d);
                }
            }
        }
    }

    // Head hg's running max and sum, the same in each invocation of its
    // run (lid / KT, one key of the tile each).
    let hg = lid / KT;
    var m_run = NEG;
    var l_run = 0.0;
    var acc: array<vec4<f32>, MAXG>;
    for (var tile = lo; tile < hi; tile += KT) {
        // Scores: this invocation's quads of key kk against every head.
        let kp = tile + kk;
        var s: array<f32, MAXG>;
        if (kp < hi) {
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
        // The next tile's keys and values, in flight through this one's
        // softmax and value pass.
        var vn: array<vec4<f32>, KT / VG>;
        if (tile + KT < hi) {
            kv = load_keys(tile + KT, hi, own, true, slot_base, kvh, hd4, nb, kk, part);
            vn = load_values(tile + KT, hi, own, slot_base, kvh, hd4, nb, dq, vg);
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
        // Per head: the tile's max, the correction of what came before,
        // the weights in place of the scores (masked keys give 0; a tile
        // has a visible key, so the max is finite) and their sum.
        let sc = select(NEG, s_sh[lid], hg < gs);
        let mn = max(m_run, run_max(lid, sc));
        let w = exp(sc - mn);
        let c = exp(m_run - mn);
        m_run = mn;
        l_run = l_run * c + run_sum(lid, w, KT);
        s_sh[lid] = w;
        if (lid % KT == 0u) {
            c_sh[hg] = c;
        }
        workgroupBarrier();
        // Values: dims 4dq..4dq+3 of keys vg, vg+VG, ... of the tile.
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
        vv = vn;
        workgroupBarrier(); // s_sh and c_sh are rewritten by the next tile
    }
    if (lid % KT == 0u && hg < gs) {
        m_sh[hg] = m_run;
        l_sh[hg] = l_run;
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
                let pb = (rh * P.splits + split) * (hd4 + 1u); // as attention.wgsl's
                if (lid == 0u) {
                    Part[pb] = vec4<f32>(m_sh[g], l_sh[g], 0.0, 0.0);
                }
                Part[pb + 1u + lid] = o;
            }
        }
        workgroupBarrier();
    }
}

// load_keys is this invocation's quads of key tile + kk (those with d =
// part + i·TPK < hd4), or zeros past hi; the row's own key is taken from
// fresh_k with fresh, else left for the caller.
fn load_keys(tile: u32, hi: u32, own: u32, fresh: bool, slot_base: u32, kvh: u32, hd4: u32, nb: u32,
             kk: u32, part: u32) -> array<vec4<f32>, KQ> {
    var kv: array<vec4<f32>, KQ>;
    let kp = tile + kk;
    if (kp < hi) {
        let kb = ((slot_base + kp % P.cache_len) * P.kv_heads + kvh) * hd4;
        for (var i = 0u; i < KQ; i++) {
            let d = part + i * TPK;
            if (d < hd4) {
                if (kp != own) {
                    kv[i] = vec4<f32>(KC[kb + d]);
                } else if (fresh) {
                    kv[i] = fresh_k(nb, d);
                }
            }
        }
    }
    return kv;
}

// load_values is this invocation's quad dq of the values of keys tile + vg,
// + VG, ... (the row's own from VN).
fn load_values(tile: u32, hi: u32, own: u32, slot_base: u32, kvh: u32, hd4: u32, nb: u32, dq: u32,
               vg: u32) -> array<vec4<f32>, KT / VG> {
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
    return vv;
}
