// Tiled matmul for prefill: y[r, yoff+n] = Σ_k x[r, k]·w[n, k]. A workgroup
// computes a TM×TN output tile (constants from the Go side, tileShape), each
// of its WG invocations an MR×NR register micro-tile accumulated in f32,
// stepping over k TK = 32 (one 32-element weight unit) at a time with two
// barriers per step. Per step the X tile and the decoded weight tile are
// staged in shared memory as f32, k-major (tile[k][m]), so the inner loop
// reads MR/4 + NR/4 vec4s per k for MR·NR FMAs. Every weight unit is
// decoded once per workgroup (so once per TM activation rows) by one
// invocation straight into shared memory; the next step's X is read into
// registers while the current step computes.
//
// Shared memory is 4·TK·(TM + TN) bytes (16 KiB, WebGPU's guaranteed
// minimum, for 64×64) with no room for padding: instead the vec4 slot of
// each k row is XOR-swizzled by (k / 4) % 8 (slot). Reads (one k row at a
// time) stay conflict-free, and the stores, where neighbouring invocations
// write 4 consecutive k of 4 rows or the same k of 32 consecutive columns,
// land in 32 distinct banks.
const TK: u32 = 32u;
const WG: u32 = (TN / NR) * (TM / MR);
// Quads of columns and of rows between an invocation's quads.
const QN: u32 = TN / NR;
const QM: u32 = TM / MR;
// X runs (4 consecutive k of one row) each invocation stages per step.
const XRUNS: u32 = TM * TK / (4u * WG);
// Weight units per tile row per step, units per step, and per invocation
// (32-element units: with fewer units than invocations only the first
// decode).
const UPR: u32 = TK / UNIT;
const UNITS: u32 = TN * UPR;
const UPI: u32 = (UNITS + WG - 1u) / WG;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> X: array<XT>;
@group(0) @binding(3) var<storage, read_write> Y: array<ACT>;
// Split k (P.splits > 1): split s of the k steps writes its f32 partials
// here, [s][row][n], for matmul_splitk.wgsl to add up (the binding after
// the weights and outputs: 4; 5 with GLU, 6 or 8 with NW 2 or 3).
@group(0) @binding(PART_B) var<storage, read_write> Part: array<f32>;

var<workgroup> xs: array<vec4<f32>, TK * TM / 4u>;
var<workgroup> ws: array<vec4<f32>, TK * TN / 4u>;

// slot is the index of the vec4 holding elements 4q..4q+3 of k row kk.
fn slot(kk: u32, q: u32, width: u32) -> u32 {
    return kk * (width / 4u) + (q ^ ((kk >> 2u) & 7u));
}

// x_run reads X[r, k .. k+3] (k a multiple of 4) as f32, zero past K: one
// vec4 load when X is read as vec4 (XT = ACT4 when K is a multiple of 4).
// The ACT4(...) conversions let either branch compile for either XT.
fn x_run(r: u32, k: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (UNIT % 4u == 0u) {
        if (k < P.k) {
            v = vec4<f32>(ACT4(X[(r * P.k + k) / 4u]));
        }
    } else {
        for (var e = 0u; e < 4u; e++) {
            if (k + e < P.k) {
                v[e] = f32(ACT4(X[r * P.k + k + e]).x);
            }
        }
    }
    return v;
}

// stage_x stores quad i of a step's X tile, v: row i / 8, k 4(i % 8) ..
// 4(i % 8) + 3 of the step (8 neighbouring quads are 32 consecutive k of
// a row), into the X tile.
fn stage_x(i: u32, v: vec4<f32>) {
    let m = i / 8u;
    for (var e = 0u; e < 4u; e++) {
        xs[slot(4u * (i % 8u) + e, m / 4u, TM)][m % 4u] = v[e];
    }
}

// fetch_unit decodes weight unit u of the step at k0 into w: fetched
// column u / UPR (matmul_tile.wgsl's tile_row), k (u % UPR)·UNIT of the
// step (a row's units on neighbouring invocations); zeros past the edges.
fn fetch_unit(u: u32, k0: u32, n0: u32, w: ptr<function, array<f32, UNIT>>) {
    let kk = (u % UPR) * UNIT;
    let c = u / UPR;
    let n = tile_row(n0, c);
    if (n < tile_rows(n0) && k0 + kk < P.k) {
        let wi = tile_w(n0, c);
        if (wi == 1u) {
            load_unit_w2(tile_base(wi, n), (k0 + kk) / UNIT, w);
        } else if (wi == 2u) {
            load_unit_w3(tile_base(wi, n), (k0 + kk) / UNIT, w);
        } else {
            load_unit(tile_base(wi, n), (k0 + kk) / UNIT, w);
        }
    }
}

// store_unit stores unit u's values w into the weight tile, at its
// column's staged place (tile_col).
fn store_unit(u: u32, w: ptr<function, array<f32, UNIT>>) {
    let c = tile_col(u / UPR);
    let kk = (u % UPR) * UNIT;
    for (var e = 0u; e < UNIT; e++) {
        ws[slot(kk + e, c / 4u, TN)][c % 4u] = (*w)[e];
    }
}

// tile_step accumulates one step's TK products from the staged tiles:
// acc[(4i + e)·NR/4 + j] holds row 4(ty + i·QM) + e, columns
// 4(tx + j·QN) .. 4(tx + j·QN) + 3.
fn tile_step(tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, MR * NR / 4u>>) {
    for (var kk = 0u; kk < TK; kk++) {
        var b: array<vec4<f32>, NR / 4u>;
        for (var j = 0u; j < NR / 4u; j++) {
            b[j] = ws[slot(kk, tx + j * QN, TN)];
        }
        for (var i = 0u; i < MR / 4u; i++) {
            let a = xs[slot(kk, ty + i * QM, TM)];
            for (var j = 0u; j < NR / 4u; j++) {
                (*acc)[(4u * i) * (NR / 4u) + j] += a.x * b[j];
                (*acc)[(4u * i + 1u) * (NR / 4u) + j] += a.y * b[j];
                (*acc)[(4u * i + 2u) * (NR / 4u) + j] += a.z * b[j];
                (*acc)[(4u * i + 3u) * (NR / 4u) + j] += a.w * b[j];
            }
        }
    }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let at = tile_at(wid.x + wid.y * nwg.x);
    if (at.r0 >= P.rows) {
        return;
    }
    let tx = tile_tx(lid);
    let ty = tile_ty(lid);
    var acc: array<vec4<f32>, MR * NR / 4u>;

    // X staging: run i covers row (lid + i·WG) / 8, k 4xj .. 4xj+3 of the
    // step, so 8 neighbouring invocations read 32 consecutive elements.
    let xj = lid % 8u;
    var xv: array<vec4<f32>, XRUNS>;

    // The first step's X; each step then reads the next one's.
    for (var i = 0u; i < XRUNS; i++) {
        let r = at.r0 + (lid + i * WG) / 8u;
        if (r < P.rows) {
            xv[i] = x_run(r, at.kb + 4u * xj);
        }
    }

    for (var k0 = at.kb; k0 < at.ke; k0 += TK) {
        for (var i = 0u; i < XRUNS; i++) {
            stage_x(lid + i * WG, xv[i]);
        }
        for (var i = 0u; i < UPI; i++) {
            let u = lid + i * WG;
            if (u < UNITS) {
                var w: array<f32, UNIT>;
                fetch_unit(u, k0, at.n0, &w);
                store_unit(u, &w);
            }
        }
        workgroupBarrier();

        // Read the next step while this one computes (zeros past the edges).
        let k1 = k0 + TK;
        for (var i = 0u; i < XRUNS; i++) {
            let r = at.r0 + (lid + i * WG) / 8u;
            xv[i] = vec4<f32>(0.0);
            if (r < P.rows) {
                xv[i] = x_run(r, k1 + 4u * xj);
            }
        }

        tile_step(tx, ty, &acc);
        workgroupBarrier();
    }

    tile_store(at.split, at.r0, at.n0, tx, ty, &acc);
}
