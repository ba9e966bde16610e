// Attention of q [rows, heads, head_dim] over the cached keys of each row's
// sequence: key position kp is visible from a query at position pos when
// kp ≤ pos and, with a window w > 0, pos - kp < w. Grouped-query: head h
// reads KV head h / (heads / kv_heads).
//
// One workgroup per (row, head, split); split s covers the visible key
// positions [first + s*split_len, first + (s+1)*split_len), first being the
// oldest visible position. Keys are processed in tiles of WG with an
// online softmax in f32. With one split the result goes straight to O; with
// several, each writes (max, sum, acc[head_dim]) to Part for the combine pass.
//
// With P.fresh (decode: one row per sequence), the row's own key and value
// come from KN/VN rather than the cache, and the workgroup whose split holds
// that position, for the first query head of each KV head, stores them in
// the cache: no separate append pass. No other workgroup of the launch reads
// that cache entry (a ring cache is at least the window long).
//
// The pipeline is assembled with one of two libraries defining prep_qk and
// fresh_k: attention_qk_plain.wgsl (q and k arrive normed and rotated) or,
// for decode on devices that bind a ninth storage buffer,
// attention_qk_rope.wgsl (the workgroup norms and rotates its query head and
// the fresh key itself: rope_qk.wgsl's work, one launch fewer).
const WG: u32 = 64u;
const MAX_HD: u32 = 256u;
const NEG: f32 = -3.0e38;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Q: array<ACT>;
@group(0) @binding(2) var<storage, read_write> KC: array<ACT4>;
@group(0) @binding(3) var<storage, read_write> VC: array<ACT4>;
@group(0) @binding(4) var<storage, read> step: array<i32>;
@group(0) @binding(5) var<storage, read_write> O: array<ACT>;
@group(0) @binding(6) var<storage, read_write> Part: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> KN: array<ACT4>;
@group(0) @binding(8) var<storage, read> VN: array<ACT4>;

var<workgroup> q_sh: array<vec4<f32>, MAX_HD / 4u>;
var<workgroup> p_sh: array<f32, WG>;
var<workgroup> range_sh: vec4<u32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let g = wid.x + wid.y * nwg.x;
    let split = g % P.splits;
    let rh = g / P.splits;
    if (rh >= P.rows * P.heads) {
        return;
    }
    let r = rh / P.heads;
    let h = rh % P.heads;
    let hd = P.head_dim;
    if (lid == 0u) {
        range_sh = split_range(r, split); // attention_range.wgsl
    }
    let hd4 = hd / 4u; // head_dim is a multiple of 4; invocation i owns dims 4i..4i+3
    if (lid < hd4) {
        let qb = rh * hd + 4u * lid;
        q_sh[lid] = vec4<f32>(f32(Q[qb]), f32(Q[qb + 1u]), f32(Q[qb + 2u]), f32(Q[qb + 3u]));
    }
    let rng = workgroupUniformLoad(&range_sh);
    let lo = rng.x;
    let hi = rng.y;
    let kvh = h / (P.heads / P.kv_heads);
    let slot_base = rng.z * P.cache_len;
    // The fresh key/value of this row: position own, read from KN/VN.
    let own = select(0xffffffffu, rng.w, P.fresh != 0u);
    let nb = (r * P.kv_heads + kvh) * hd4;
    let holds_own = own >= lo && own < hi;
    prep_qk(lid, hd4, nb, holds_own, rng.w);
    if (holds_own && h % (P.heads / P.kv_heads) == 0u && lid < hd4) {
        let cb = ((slot_base + own % P.cache_len) * P.kv_heads + kvh) * hd4 + lid;
        KC[cb] = fresh_k(nb, lid);
        VC[cb] = VN[nb + lid];
    }

    var m = NEG;
    var l = 0.0;
    var acc = vec4<f32>();
    // A tile holds KT = WG / G keys; G invocations share each key's dot
    // product (adjacent invocations read adjacent vec4s of its row), so a
    // short split is not one invocation's long chain of loads.
    let kt = WG / G;
    let kk = lid / G;
    let part = lid % G;
    for (var tile = lo; tile < hi; tile += kt) {
        var kp = tile + kk;
        var qk = 0.0;
        if (kp < hi) {
            if (kp == own) {
                for (var d = part; d < hd4; d += G) {
                    qk += dot(q_sh[d], vec4<f32>(fresh_k(nb, d)));
                }
            } else {
                let kb = ((slot_base + kp % P.cache_len) * P.kv_heads + kvh) * hd4;
                // Eight loads a round on GPUs (WIDE, set by the Go side),
                // all in flight together (a loop of one load a step waits
                // out each load's latency in turn); software adapters run
                // the plain loop, cheaper for them.
                var d = part;
                for (; WIDE && d + 7u * G < hd4; d += 8u * G) {
                    let k0 = KC[kb + d];
                    let k1 = KC[kb + d + G];
                    let k2 = KC[kb + d + 2u * G];
                    let k3 = KC[kb + d + 3u * G];
                    let k4 = KC[kb + d + 4u * G];
                    let k5 = KC[kb + d + 5u * G];
                    let k6 = KC[kb + d + 6u * G];
                    let k7 = KC[kb + d + 7u * G];
                    qk += dot(q_sh[d], vec4<f32>(k0)) + dot(q_sh[d + G], vec4<f32>(k1))
                        + dot(q_sh[d + 2u * G], vec4<f32>(k2)) + dot(q_sh[d + 3u * G], vec4<f32>(k3))
                        + dot(q_sh[d + 4u * G], vec4<f32>(k4)) + dot(q_sh[d + 5u * G], vec4<f32>(k5))
                        + dot(q_sh[d + 6u * G], vec4<f32>(k6)) + dot(q_sh[d + 7u * G], vec4<f32>(k7));
                }
                for (; d < hd4; d += G) {
                    qk += dot(q_sh[d], vec4<f32>(KC[kb + d]));
                }
            }
        }
        if (G > 1u) {
            p_sh[lid] = qk;
            workgroupBarrier();
            qk = 0.0;
            if (lid < kt) {
                for (var i = 0u; i < G; i++) {
                    qk += p_sh[lid * G + i];
                }
            }
            workgroupBarrier();
            kp = tile + lid; // from here invocation i < KT holds key i of the tile
        }
        var sc = NEG;
        if (lid < kt && kp < hi) {
            sc = qk * P.scale;
            if (P.softcap > 0.0) {
                sc = tanh(clamp(sc / P.softcap, -15.0, 15.0)) * P.softcap;
            }
        }
        let mn = max(m, wg_max(lid, sc));
        var p = 0.0;
        if (lid < kt && kp < hi) {
            p = exp(sc - mn);
        }
        p_sh[lid] = p;
        let ls = wg_sum(lid, p); // its barriers publish p_sh
        let corr = exp(m - mn);
        l = l * corr + ls;
        let nt = min(kt, hi - tile);
        if (lid < hd4) {
            var a = acc * corr;
            // Eight keys a round on GPUs (four on software adapters):
            // their value loads are independent, so they are in flight
            // together.
            var t = 0u;
            for (; WIDE && t + 8u <= nt; t += 8u) {
                let v0 = value_row(tile + t, own, nb, slot_base, kvh, hd4, lid);
                let v1 = value_row(tile + t + 1u, own, nb, slot_base, kvh, hd4, lid);
                let v2 = value_row(tile + t + 2u, own, nb, slot_base, kvh, hd4, lid);
                let v3 = value_row(tile + t + 3u, own, nb, slot_base, kvh, hd4, lid);
                let v4 = value_row(tile + t + 4u, own, nb, slot_base, kvh, hd4, lid);
                let v5 = value_row(tile + t + 5u, own, nb, slot_base, kvh, hd4, lid);
                let v6 = value_row(tile + t + 6u, own, nb, slot_base, kvh, hd4, lid);
                let v7 = value_row(tile + t + 7u, own, nb, slot_base, kvh, hd4, lid);
                a += p_sh[t] * v0 + p_sh[t + 1u] * v1 + p_sh[t + 2u] * v2 + p_sh[t + 3u] * v3
                    + p_sh[t + 4u] * v4 + p_sh[t + 5u] * v5 + p_sh[t + 6u] * v6 + p_sh[t + 7u] * v7;
            }
            for (; t + 4u <= nt; t += 4u) {
                let v0 = value_row(tile + t, own, nb, slot_base, kvh, hd4, lid);
                let v1 = value_row(tile + t + 1u, own, nb, slot_base, kvh, hd4, lid);
                let v2 = value_row(tile + t + 2u, own, nb, slot_base, kvh, hd4, lid);
                let v3 = value_row(tile + t + 3u, own, nb, slot_base, kvh, hd4, lid);
                a += p_sh[t] * v0 + p_sh[t + 1u] * v1 + p_sh[t + 2u] * v2 + p_sh[t + 3u] * v3;
            }
            for (; t < nt; t++) {
                a += p_sh[t] * value_row(tile + t, own, nb, slot_base, kvh, hd4, lid);
            }
            acc = a;
        }
        m = mn;
        workgroupBarrier();
    }
    if (P.splits == 1u) {
        if (lid < hd4) {
            let o = acc / l;
            for (var c = 0u; c < 4u; c++) {
                O[rh * hd + 4u * lid + c] = ACT(o[c]);
            }
        }
        return;
    }
    // A split's record (attention_combine.wgsl): (max, sum, 0, 0), then
    // the accumulator's quads.
    let pb = (rh * P.splits + split) * (hd4 + 1u);
    if (lid == 0u) {
        Part[pb] = vec4<f32>(m, l, 0.0, 0.0);
    }
    if (lid < hd4) {
        Part[pb + 1u + lid] = acc;
    }
}

// value_row is invocation lid's vec4 of the value at key position kp: the
// step's own from VN, else the cache's.
fn value_row(kp: u32, own: u32, nb: u32, slot_base: u32, kvh: u32, hd4: u32, lid: u32) -> vec4<f32> {
    if (kp == own) {
        return vec4<f32>(VN[nb + lid]);
    }
    let vb = ((slot_base + kp % P.cache_len) * P.kv_heads + kvh) * hd4;
    return vec4<f32>(VC[vb + lid]);
}
