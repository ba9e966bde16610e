// Integer tiled matmul for prefill over quantized weights:
// y[r, yoff+n] = Σ_k x[r, k]·w[n, k] with x as 8-bit activations
// (quantize_q8.wgsl, row r's words from r·(k/4 + k/8) on) and w's units
// as int8 with scales (wint_<type>.wgsl's load_unit_i8), four products a
// dot4I8Packed. The tiling is matmul_tiled.wgsl's (TM×TN a workgroup,
// MR×NR an invocation placed by matmul_tile.wgsl, k split as
// P.splits/P.kslice say), stepping TK elements (TK/32 units) at a time;
// per 32-element unit (or 16-element half, UNIT_HALVES) the integer sums
// are scaled into f32 accumulators: acc += dx·s·Σ qx·qw (+ Σx·o for units
// with an offset, UNIT_OFFSET).
// The f32 kernel's k step is 32 FMAs per output per unit; here it is 8
// packed dot products and a few float operations, and the tiles in shared
// memory are a quarter of the bytes.
const WG: u32 = (TN / NR) * (TM / MR);
const QN: u32 = TN / NR;
const QM: u32 = TM / MR;
// Quads of k a step, units a column a step, units a step and an
// invocation's share of them.
const KQ: u32 = TK / 4u;
const UPR: u32 = TK / 32u;
const UNITS: u32 = TN * UPR;
const UPI: u32 = (UNITS + WG - 1u) / WG;
// X vec4s (4 quads of a row) a step and an invocation's share of them.
const XV: u32 = TM * KQ / 4u;
const XPI: u32 = (XV + WG - 1u) / WG;
// Scale halves a unit.
const NH: u32 = select(1u, 2u, UNIT_HALVES);

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> X: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<ACT>;
// Split k (P.splits > 1): split s writes its f32 partials here, [s][row][n],
// for matmul_splitk.wgsl to add up (the binding after the weights and
// outputs: 4; 5 with GLU, 6 or 8 with NW 2 or 3).
@group(0) @binding(PART_B) var<storage, read_write> Part: array<f32>;

// The step's quads, k-major: [kq][quad of rows or columns], four rows'
// (columns') words a vec4.
var<workgroup> xs: array<vec4<u32>, KQ * TM / 4u>;
var<workgroup> ws: array<vec4<u32>, KQ * TN / 4u>;
// Per unit of the step and quad of rows: the rows' scales d and sums Σx.
var<workgroup> xd: array<vec4<f32>, UPR * TM / 4u>;
var<workgroup> xsum: array<vec4<f32>, UPR * TM / 4u>;
// Per unit of the step and quad of columns: three vec4s, the columns'
// half-0 scales, half-1 scales and offsets.
var<workgroup> wsc: array<vec4<f32>, 3u * UPR * TN / 4u>;

// slot is the index of the vec4 holding quad kq of the width/4-th quad q of
// rows or columns, XOR-swizzled by kq / 4 so that the staging stores of a
// subgroup (4 quads of a row on neighbouring invocations) hit 32 banks.
fn slot(kq: u32, q: u32, width: u32) -> u32 {
    return kq * (width / 4u) + (q ^ ((kq >> 2u) * (32u / KQ)));
}

// sub_bytes subtracts o's bytes from v's (each of v's below 128, o's at most
// 128), as int8: the signed values of offset-binary quants.
fn sub_bytes(v: u32, o: u32) -> u32 {
    return ((v | 0x80808080u) - o) ^ 0x80808080u;
}

fn dot4v(a: u32, b: vec4<u32>) -> vec4<i32> {
    return vec4<i32>(dot4I8Packed(a, b.x), dot4I8Packed(a, b.y), dot4I8Packed(a, b.z), dot4I8Packed(a, b.w));
}

// x_words is the vec4 index of row r's quads and its scale pairs (d, Σx of
// each block, two blocks a vec4).
fn x_quads(r: u32) -> u32 { return r * (3u * P.k / 32u); }

fn x_scales(r: u32) -> u32 { return x_quads(r) + P.k / 16u; }

// x_load reads X vec4 i of the step at k0 (row i / (KQ/4), quads
// 4(i % (KQ/4)) .. +3 of the step), zero past the rows and k.
fn x_load(i: u32, r0: u32, k0: u32) -> vec4<u32> {
    let r = r0 + i / (KQ / 4u);
    let k = k0 + 16u * (i % (KQ / 4u));
    if (i < XV && r < P.rows && k < P.k) {
        return X[x_quads(r) + k / 16u];
    }
    return vec4<u32>(0u);
}

// x_scale reads unit b of the step at k0 of row lid % TM: (d, Σx), zero past
// the rows and k.
fn x_scale(lid: u32, r0: u32, k0: u32) -> vec2<f32> {
    let r = r0 + lid % TM;
    let blk = k0 / 32u + lid / TM;
    if (lid < TM * UPR && r < P.rows && 32u * blk < P.k) {
        let v = X[x_scales(r) + blk / 2u];
        return bitcast<vec2<f32>>(select(v.xy, v.zw, (blk & 1u) == 1u));
    }
    return vec2<f32>(0.0);
}

fn stage_x(i: u32, v: vec4<u32>) {
    if (i < XV) {
        let m = i / (KQ / 4u);
        let kq = 4u * (i % (KQ / 4u));
        for (var e = 0u; e < 4u; e++) {
            xs[slot(kq + e, m / 4u, TM)][m % 4u] = v[e];
        }
    }
}

fn stage_x_scale(lid: u32, v: vec2<f32>) {
    if (lid < TM * UPR) {
        let m = lid % TM;
        let i = (lid / TM) * (TM / 4u) + m / 4u;
        xd[i][m % 4u] = v.x;
        xsum[i][m % 4u] = v.y;
    }
}

// fetch_unit decodes weight unit u of the step at k0 (fetched column
// u / UPR, matmul_tile.wgsl's tile_row; unit u % UPR of the step: a
// column's units on neighbouring invocations) into q, returning its
// scales; zeros past the edges.
fn fetch_unit(u: u32, k0: u32, n0: u32, q: ptr<function, array<u32, 8>>) -> vec3<f32> {
    let c = u / UPR;
    let n = tile_row(n0, c);
    let b = u % UPR;
    if (u < UNITS && n < tile_rows(n0) && k0 + 32u * b < P.k) {
        let w = tile_w(n0, c);
        if (w == 1u) {
            return load_unit_i8_w2(tile_base(w, n), k0 / 32u + b, q);
        }
        if (w == 2u) {
            return load_unit_i8_w3(tile_base(w, n), k0 / 32u + b, q);
        }
        return load_unit_i8(tile_base(w, n), k0 / 32u + b, q);
    }
    for (var j = 0u; j < 8u; j++) {
        (*q)[j] = 0u; // explicitly, as s in tile_step
    }
    return vec3<f32>(0.0);
}

// stage_unit stores unit u's quants q and scales s into the tiles, at its
// column's staged place (tile_col).
fn stage_unit(u: u32, q: ptr<function, array<u32, 8>>, s: vec3<f32>) {
    if (u >= UNITS) {
        return;
    }
    let c = tile_col(u / UPR);
    let b = u % UPR;
    for (var j = 0u; j < 8u; j++) {
        ws[slot(8u * b + j, c / 4u, TN)][c % 4u] = (*q)[j];
    }
    let i = 3u * (b * (TN / 4u) + c / 4u);
    wsc[i][c % 4u] = s.x;
    wsc[i + 1u][c % 4u] = s.y;
    wsc[i + 2u][c % 4u] = s.z;
}

// tile_step accumulates one step from the staged tiles: acc[(4i + e)·NR/4 + j]
// holds row 4(ty + i·QM) + e, columns 4(tx + j·QN) .. +3.
fn tile_step(tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, MR * NR / 4u>>) {
    for (var b = 0u; b < UPR; b++) {
        for (var h = 0u; h < NH; h++) {
            var s: array<vec4<i32>, MR * NR / 4u>;
            for (var a = 0u; a < MR * NR / 4u; a++) {
                s[a] = vec4<i32>(0); // explicitly: lavapipe kept s's sums from h = 0 into h = 1
            }
            for (var t = 0u; t < 8u / NH; t++) {
                let kq = 8u * b + h * (8u / NH) + t;
                var bw: array<vec4<u32>, NR / 4u>;
                for (var j = 0u; j < NR / 4u; j++) {
                    bw[j] = ws[slot(kq, tx + j * QN, TN)];
                }
                for (var i = 0u; i < MR / 4u; i++) {
                    let a = xs[slot(kq, ty + i * QM, TM)];
                    for (var j = 0u; j < NR / 4u; j++) {
                        s[(4u * i) * (NR / 4u) + j] += dot4v(a.x, bw[j]);
                        s[(4u * i + 1u) * (NR / 4u) + j] += dot4v(a.y, bw[j]);
                        s[(4u * i + 2u) * (NR / 4u) + j] += dot4v(a.z, bw[j]);
                        s[(4u * i + 3u) * (NR / 4u) + j] += dot4v(a.w, bw[j]);
                    }
                }
            }
            for (var i = 0u; i < MR / 4u; i++) {
                let dx = xd[b * (TM / 4u) + ty + i * QM];
                for (var j = 0u; j < NR / 4u; j++) {
                    let sw = wsc[3u * (b * (TN / 4u) + tx + j * QN) + h];
                    for (var e = 0u; e < 4u; e++) {
                        let a = (4u * i + e) * (NR / 4u) + j;
                        (*acc)[a] += vec4<f32>(s[a]) * (dx[e] * sw);
                    }
                }
            }
        }
        if (UNIT_OFFSET) {
            for (var i = 0u; i < MR / 4u; i++) {
                let sx = xsum[b * (TM / 4u) + ty + i * QM];
                for (var j = 0u; j < NR / 4u; j++) {
                    let o = wsc[3u * (b * (TN / 4u) + tx + j * QN) + 2u];
                    for (var e = 0u; e < 4u; e++) {
                        (*acc)[(4u * i + e) * (NR / 4u) + j] += sx[e] * o;
                    }
                }
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

    // The first step's X; each step then reads the next one's.
    var xv: array<vec4<u32>, XPI>;
    for (var i = 0u; i < XPI; i++) {
        xv[i] = x_load(lid + i * WG, at.r0, at.kb);
    }
    var xsv = x_scale(lid, at.r0, at.kb);

    for (var k0 = at.kb; k0 < at.ke; k0 += TK) {
        for (var i = 0u; i < XPI; i++) {
            stage_x(lid + i * WG, xv[i]);
        }
        stage_x_scale(lid, xsv);
        for (var i = 0u; i < UPI; i++) {
            var q: array<u32, 8>;
            let s = fetch_unit(lid + i * WG, k0, at.n0, &q);
            stage_unit(lid + i * WG, &q, s);
        }
        workgroupBarrier();

        // Read the next step while this one computes.
        let k1 = k0 + TK;
        for (var i = 0u; i < XPI; i++) {
            xv[i] = x_load(lid + i * WG, at.r0, k1);
        }
        xsv = x_scale(lid, at.r0, k1);

        tile_step(tx, ty, &acc);
        workgroupBarrier();
    }

    tile_store(at.split, at.r0, at.n0, tx, ty, &acc);
}
