// Blocked ("flash") attention for prompt chunks, scores in register
// micro-tiles: the semantics of attention_prefill.wgsl (same Params, the
// same blocks of BR queries of one KV head, the same splits and Part
// layout), computed as two small matmuls per tile of BC keys.
//
// Invocation (tx, ty) of the BC/4 × BR/4 grid owns the scores of queries
// 4ty .. 4ty+3 of the block against keys 4tx .. 4tx+3 of the tile, and the
// output accumulators of those queries in head_dim columns tx + j·(BC/4)
// (vec4s, j < OC4). Per tile:
//   1. S = Q·Kᵀ, stepping DK head_dim elements at a time: the step's Q and
//      K slices are staged in workgroup memory d-major ([d][query],
//      [d][key]), so each d costs two vec4 reads for 16 multiply-adds.
//   2. Online softmax (f32): each invocation's maxima, then sums, over its
//      4 keys meet in red_sh, a vec4 for its 4 queries (so BC/4 vec4 reads
//      gather a query quad's partials); the probabilities go to p_sh,
//      key-major, for step 3.
//   3. O += P·V, staging VK keys' values at a time: per key one vec4 of P
//      (4 queries) and OC4 vec4s of V for 16·OC4 multiply-adds.
// Queries that see no key of the tile get probability 0; keys past the
// tile's end are staged as zeros (0·garbage could be NaN). Every staging
// step's loads are issued one step ahead, into registers (the first V
// step's during the last Q/K step, the next tile's first Q/K step during
// the last V step): H100, one process, 512-row chunks: 1.18–1.28× faster
// than loading each step after its barrier.
//
// Workgroup-memory tiles are XOR-swizzled by (row / 4) % 8 (tslot): the
// stagings' scattered stores and the reads of one row stay within few
// banks. No subgroup operations: one source serves every device.
//
// Constants from Go (gpuops.blockTiling): HD4 (head_dim / 4), BR, BC (32
// or 64), DK, VK, WG = BR·BC/16.
const QX: u32 = BC / 4u;   // invocations along a tile's keys
const QY: u32 = BR / 4u;   // invocations along a block's queries
const OC4: u32 = HD4 / QX; // output vec4s per query per invocation
const KOFF: u32 = DK * QY; // K's slice after Q's in stage_sh
const STAGE: u32 = max(DK * (QY + QX), VK * HD4);
// Q, K and V vec4s an invocation stages per step: constant trip counts, so
// a step's loads are all in flight at once, in registers.
const QLD: u32 = (BR * DK / 4u + WG - 1u) / WG;
const KLD: u32 = (BC * DK / 4u + WG - 1u) / WG;
const VLD: u32 = (VK * HD4 + WG - 1u) / WG;

// Q and K slices of a head_dim step, then V rows of a key step.
var<workgroup> stage_sh: array<vec4<f32>, STAGE>;
// Probabilities [key][query quad].
var<workgroup> p_sh: array<vec4<f32>, BC * QY>;
// Per query quad ty, each tx's maxima over its 4 keys, then its sums.
var<workgroup> red_sh: array<vec4<f32>, QY * QX>;

// tslot is the vec4 holding items 4q .. 4q+3 of row d of a tile w4 vec4s
// wide (w4 = 8 or 16).
fn tslot(d: u32, q: u32, w4: u32) -> u32 {
    return d * w4 + (q ^ ((d >> 2u) & 7u));
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let at = block_at(wid.x + wid.y * nwg.x);
    if (!at.live) {
        return;
    }
    let tx = lid % QX;
    let ty = lid / QX;
    let rng = shared_range(lid, at);
    if (idle(at, rng)) {
        return;
    }
    let lo = rng.x;
    let hi = rng.y;
    let kv_base = rng.z;

    // This invocation's 4 queries: what they see.
    var pos: array<u32, 4>;
    var first: array<u32, 4>;
    var m: array<f32, 4>;
    var l = array<f32, 4>();
    var acc = array<vec4<f32>, 4u * OC4>();
    for (var e = 0u; e < 4u; e++) {
        pos[e] = pos_at(at, at.blk * BR + 4u * ty + e);
        first[e] = first_key(pos[e]);
        m[e] = NEG;
    }
    // Each step's loads are issued a step ahead (the first before the
    // loop), into registers, and staged after the barrier that frees
    // stage_sh: the memory round trips overlap the previous step's math.
    var qv: array<vec4<f32>, QLD>;
    var kv: array<vec4<f32>, KLD>;
    var vv: array<vec4<f32>, VLD>;
    load_qk(at, lid, lo, hi, kv_base, 0u, &qv, &kv);
    for (var tile = lo; tile < hi; tile += BC) {
        let n = min(BC, hi - tile);
        // 1. Scores.
        var s = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
        for (var d0 = 0u; d0 < HD4; d0 += DK / 4u) {
            stage_qk(lid, &qv, &kv);
            workgroupBarrier();
            if (d0 + DK / 4u < HD4) {
                load_qk(at, lid, tile, hi, kv_base, d0 + DK / 4u, &qv, &kv);
            } else {
                load_v(lid, tile, n, kv_base, at.kvh, 0u, &vv);
            }
            for (var dd = 0u; dd < DK; dd++) {
                let a = stage_sh[tslot(dd, ty, QY)];
                let k = stage_sh[KOFF + tslot(dd, tx, QX)];
                s[0] += a.x * k;
                s[1] += a.y * k;
                s[2] += a.z * k;
                s[3] += a.w * k;
            }
            workgroupBarrier();
        }
        // 2. Online softmax: masked scores become NEG, then probability 0.
        var mx = vec4<f32>(NEG);
        for (var e = 0u; e < 4u; e++) {
            for (var f = 0u; f < 4u; f++) {
                let c = 4u * tx + f;
                let kp = tile + c;
                var x = NEG;
                if (c < n && kp <= pos[e] && kp >= first[e]) {
                    x = score(s[e][f]);
                }
                s[e][f] = x;
                mx[e] = max(mx[e], x);
            }
        }
        red_sh[ty * QX + tx] = mx;
        workgroupBarrier();
        var mt = vec4<f32>(NEG);
        for (var x = 0u; x < QX; x++) {
            mt = max(mt, red_sh[ty * QX + x]);
        }
        workgroupBarrier(); // red_sh takes the sums next
        var p = array<vec4<f32>, 4>();
        var ps = vec4<f32>(0.0);
        for (var e = 0u; e < 4u; e++) {
            let mn = max(m[e], mt[e]);
            let corr = exp(m[e] - mn);
            m[e] = mn;
            l[e] *= corr;
            for (var j = 0u; j < OC4; j++) {
                acc[e * OC4 + j] *= corr;
            }
            for (var f = 0u; f < 4u; f++) {
                p[e][f] = select(0.0, exp(s[e][f] - mn), s[e][f] > 0.5 * NEG);
            }
            ps[e] = p[e].x + p[e].y + p[e].z + p[e].w;
        }
        red_sh[ty * QX + tx] = ps;
        for (var f = 0u; f < 4u; f++) {
            p_sh[tslot(4u * tx + f, ty, QY)] = vec4<f32>(p[0][f], p[1][f], p[2][f], p[3][f]);
        }
        // 3. Values.
        for (var k0 = 0u; k0 < n; k0 += VK) {
            for (var j = 0u; j < VLD; j++) {
                let i = lid + j * WG;
                if (i < VK * HD4) {
                    stage_sh[i] = vv[j];
                }
            }
            workgroupBarrier();
            if (k0 + VK < n) {
                load_v(lid, tile, n, kv_base, at.kvh, k0 + VK, &vv);
            } else if (tile + BC < hi) {
                load_qk(at, lid, tile + BC, hi, kv_base, 0u, &qv, &kv);
            }
            if (k0 == 0u) {
                var sum = vec4<f32>(0.0);
                for (var x = 0u; x < QX; x++) {
                    sum += red_sh[ty * QX + x];
                }
                for (var e = 0u; e < 4u; e++) {
                    l[e] += sum[e];
                }
            }
            for (var k = 0u; k < VK; k++) {
                let pv = p_sh[tslot(k0 + k, ty, QY)];
                for (var j = 0u; j < OC4; j++) {
                    let v = stage_sh[k * HD4 + tx + j * QX];
                    acc[j] += pv.x * v;
                    acc[OC4 + j] += pv.y * v;
                    acc[2u * OC4 + j] += pv.z * v;
                    acc[3u * OC4 + j] += pv.w * v;
                }
            }
            workgroupBarrier();
        }
    }
    for (var e = 0u; e < 4u; e++) {
        let flat = at.blk * BR + 4u * ty + e;
        if (flat >= P.t * at.group) {
            break;
        }
        let qb = query_at(at, flat);
        if (tx == 0u) {
            store_stats(at, qb, m[e], l[e], rng.w);
        }
        for (var j = 0u; j < OC4; j++) {
            store_quad(at, qb, tx + j * QX, acc[e * OC4 + j], l[e]);
        }
    }
}

// load_qk loads this invocation's share of head_dim step d0 (vec4s d0 ..
// d0 + DK/4 - 1) of the block's queries and of keys tile .. tile + BC - 1
// (zeros at and past hi: 0·garbage could be NaN).
fn load_qk(at: BlockAt, lid: u32, tile: u32, hi: u32, kv_base: u32, d0: u32, qv: ptr<function, array<vec4<f32>, QLD>>,
           kv: ptr<function, array<vec4<f32>, KLD>>) {
    for (var j = 0u; j < QLD; j++) {
        let i = lid + j * WG;
        if (i < BR * DK / 4u) {
            (*qv)[j] = vec4<f32>(Q[query_at(at, at.blk * BR + i / (DK / 4u)) + d0 + i % (DK / 4u)]);
        }
    }
    for (var j = 0u; j < KLD; j++) {
        let i = lid + j * WG;
        let c = i / (DK / 4u);
        var v = vec4<f32>(0.0);
        if (i < BC * DK / 4u && tile + c < hi) {
            v = vec4<f32>(KC[kv_at(kv_base, tile + c, at.kvh, d0 + i % (DK / 4u))]);
        }
        (*kv)[j] = v;
    }
}

// stage_qk stores a step's Q and K slices d-major into stage_sh ([d][query],
// then [d][key] at KOFF).
fn stage_qk(lid: u32, qv: ptr<function, array<vec4<f32>, QLD>>, kv: ptr<function, array<vec4<f32>, KLD>>) {
    for (var j = 0u; j < QLD; j++) {
        let i = lid + j * WG;
        if (i < BR * DK / 4u) {
            stage_quad(0u, QY, i, (*qv)[j]);
        }
    }
    for (var j = 0u; j < KLD; j++) {
        let i = lid + j * WG;
        if (i < BC * DK / 4u) {
            stage_quad(KOFF, QX, i, (*kv)[j]);
        }
    }
}

// stage_quad stores v, quad i of a step's slice (row i / (DK/4), its
// head_dim elements 4(i % (DK/4)) .. +3), into the slice's tile at base,
// w4 vec4s wide.
fn stage_quad(base: u32, w4: u32, i: u32, v: vec4<f32>) {
    let r = i / (DK / 4u);
    let dq = i % (DK / 4u);
    for (var e = 0u; e < 4u; e++) {
        stage_sh[base + tslot(4u * dq + e, r / 4u, w4)][r % 4u] = v[e];
    }
}

// load_v loads this invocation's share of the values of keys tile + k0 ..
// tile + k0 + VK - 1 (zeros past the tile's n keys).
fn load_v(lid: u32, tile: u32, n: u32, kv_base: u32, kvh: u32, k0: u32, vv: ptr<function, array<vec4<f32>, VLD>>) {
    for (var j = 0u; j < VLD; j++) {
        let i = lid + j * WG;
        let c = k0 + i / HD4;
        var v = vec4<f32>(0.0);
        if (i < VK * HD4 && c < n) {
            v = vec4<f32>(VC[kv_at(kv_base, tile + c, kvh, i % HD4)]);
        }
        (*vv)[j] = v;
    }
}
