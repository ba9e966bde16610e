// Tiled ("flash") attention for prompt chunks: same semantics as
// attention.wgsl for T > 1 (key position kp is visible from a query at
// position pos when kp ≤ pos and, with a window w > 0, pos - kp < w; cache
// row kp % cache_len; head h reads KV head h / (heads / kv_heads)), with the
// chunk's keys and values already appended to the caches.
//
// A workgroup owns BR queries of one sequence and one KV head: the chunk's
// (row, query head) pairs of that KV head, row-major (t * group + g), cut
// into blocks of BR. So every query head of a KV head shares each staged
// key and value, and a block spans few positions. Each key tile of BC keys
// is read from the cache into workgroup memory once for the whole block.
//
// A team of TQ invocations serves QPI queries (query u of team qi is the
// block's u * NT + qi, NT = WG / TQ teams); member j holds the VPM vec4s
// j, j+TQ, ... of each query and of its output accumulator in registers
// (interleaved so a team reads adjacent vec4s of a staged row: no bank
// conflicts; each staged vec4 read serves QPI queries). Per tile: stage K;
// each member dots its slices with every key into part_sh; one member per
// (query, key) adds up the team's partials while K's buffer is refilled
// with V; every member then updates its queries' online softmax (f32) and
// accumulators.
//
// Split s of a block covers its key positions [lo + s*slen, lo + (s+1)*slen)
// (the last split runs to the end), lo being the oldest key any of its
// queries sees and slen split_len, or with split_len 0 the block's range
// divided by splits (rounded up to tiles). With one split the result goes
// to O; with several, each writes (max, sum, acc[head_dim]) to Part in
// attention_combine.wgsl's layout.
//
// Workgroup memory (kv_sh, part_sh) stays within a budget under WebGPU's
// guaranteed 16 KiB (gpuops.prefillShared): Go picks BC for it. No subgroup
// operations: one source serves devices with and without the feature.
//
// Constants from Go: HD4 (head_dim / 4), TQ, VPM (HD4 / TQ), QPI, WG, BR
// (WG / TQ * QPI), BC.
const NT: u32 = WG / TQ;
const PS: u32 = WG * QPI + 1u; // part_sh row stride: padded against bank conflicts

var<workgroup> kv_sh: array<vec4<f32>, BC * HD4>;
var<workgroup> part_sh: array<f32, BC * PS>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let at = block_at(wid.x + wid.y * nwg.x);
    if (!at.live) {
        return;
    }
    let qi = lid / TQ;
    let j = lid % TQ;
    let rng = shared_range(lid, at);
    if (idle(at, rng)) {
        return;
    }
    let lo = rng.x;
    let hi = rng.y;
    let kv_base = rng.z;

    // This invocation's queries: where they read and write, what they see.
    // The last block's tail (invalid) only joins the barriers.
    var valid: array<bool, QPI>;
    var qb: array<u32, QPI>;
    var pos: array<u32, QPI>;
    var first: array<u32, QPI>;
    var q: array<vec4<f32>, QPI * VPM>;
    var acc = array<vec4<f32>, QPI * VPM>();
    var m: array<f32, QPI>;
    var l = array<f32, QPI>();
    for (var u = 0u; u < QPI; u++) {
        let flat = at.blk * BR + u * NT + qi;
        valid[u] = flat < P.t * at.group;
        qb[u] = query_at(at, flat);
        pos[u] = pos_at(at, flat);
        first[u] = first_key(pos[u]);
        for (var i = 0u; i < VPM; i++) {
            q[u * VPM + i] = vec4<f32>(Q[qb[u] + j + TQ * i]);
        }
        m[u] = NEG;
    }
    for (var tile = lo; tile < hi; tile += BC) {
        let n = min(BC, hi - tile);
        for (var i = lid; i < BC * HD4; i += WG) {
            let c = i / HD4;
            var x = vec4<f32>();
            if (c < n) {
                x = vec4<f32>(KC[kv_at(kv_base, tile + c, at.kvh, i % HD4)]);
            }
            kv_sh[i] = x;
        }
        workgroupBarrier();
        for (var c = 0u; c < BC; c++) {
            var s = array<f32, QPI>();
            for (var i = 0u; i < VPM; i++) {
                let k = kv_sh[c * HD4 + j + TQ * i];
                for (var u = 0u; u < QPI; u++) {
                    s[u] += dot(q[u * VPM + i], k);
                }
            }
            for (var u = 0u; u < QPI; u++) {
                part_sh[c * PS + u * WG + lid] = s[u];
            }
        }
        workgroupBarrier();
        // Only this member reads the partials of (query u of its team, key
        // c): it may overwrite the first with the score.
        for (var c = j; c < BC; c += TQ) {
            for (var u = 0u; u < QPI; u++) {
                let pb = c * PS + u * WG + qi * TQ;
                var s = 0.0;
                for (var i = 0u; i < TQ; i++) {
                    s += part_sh[pb + i];
                }
                part_sh[pb] = score(s);
            }
        }
        for (var i = lid; i < BC * HD4; i += WG) {
            let c = i / HD4;
            var x = vec4<f32>();
            if (c < n) {
                x = vec4<f32>(VC[kv_at(kv_base, tile + c, at.kvh, i % HD4)]);
            }
            kv_sh[i] = x;
        }
        workgroupBarrier();
        // The team reads its scores from part_sh (same words: broadcast).
        for (var u = 0u; u < QPI; u++) {
            var mt = NEG;
            for (var c = 0u; c < n; c++) {
                let kp = tile + c;
                if (kp <= pos[u] && kp >= first[u]) {
                    mt = max(mt, part_sh[c * PS + u * WG + qi * TQ]);
                }
            }
            let mn = max(m[u], mt);
            let corr = exp(m[u] - mn);
            for (var i = 0u; i < VPM; i++) {
                acc[u * VPM + i] *= corr;
            }
            l[u] *= corr;
            m[u] = mn;
        }
        for (var c = 0u; c < n; c++) {
            let kp = tile + c;
            var p = array<f32, QPI>();
            for (var u = 0u; u < QPI; u++) {
                if (kp <= pos[u] && kp >= first[u]) {
                    p[u] = exp(part_sh[c * PS + u * WG + qi * TQ] - m[u]);
                    l[u] += p[u];
                }
            }
            for (var i = 0u; i < VPM; i++) {
                let v = kv_sh[c * HD4 + j + TQ * i];
                for (var u = 0u; u < QPI; u++) {
                    acc[u * VPM + i] += p[u] * v;
                }
            }
        }
        workgroupBarrier();
    }
    for (var u = 0u; u < QPI; u++) {
        if (!valid[u]) {
            continue;
        }
        if (j == 0u) {
            store_stats(at, qb[u], m[u], l[u], rng.w);
        }
        for (var i = 0u; i < VPM; i++) {
            store_quad(at, qb[u], j + TQ * i, acc[u * VPM + i], l[u]);
        }
    }
}
