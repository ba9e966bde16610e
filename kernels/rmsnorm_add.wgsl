// Fused residual add + RMSNorm, in place on the residual stream:
// A = A + B (stored in the activation type), Out = norm(A) * w' computed from
// the stored A, so fusing gives the same numbers as an add then a norm.
//
// A launch of one row is all latency: every load it needs (A, B, w) is
// issued before the first store and the reduction, four at a time into
// registers (NV quads per invocation, rows up to 4·WG·NV elements: loops of
// constant trip count, unrolled, so the arrays stay in registers); longer
// rows read the rest as they go, each invocation reading back only the
// elements it wrote itself.
const WG: u32 = 256u;
const NV: u32 = 4u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> A: array<ACT>;
@group(0) @binding(2) var<storage, read> B: array<ACT>;
@group(0) @binding(3) var<storage, read> Wn: array<f32>;
@group(0) @binding(4) var<storage, read_write> Out: array<ACT>;

// The norm weight's quad at i0 (0 past the end); the rest is norm_rows.wgsl.
fn wv(i: u32) -> f32 { return select(0.0, Wn[min(i, P.n - 1u)], i < P.n); }
fn qw(i0: u32) -> vec4<f32> { return vec4<f32>(wv(i0), wv(i0 + WG), wv(i0 + 2u * WG), wv(i0 + 3u * WG)); }

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let r = wid.x + wid.y * nwg.x;
    if (r >= P.rows) {
        return;
    }
    let base = r * P.n;
    let kept = NV * 4u * WG;
    var ka: array<vec4<f32>, NV>;
    var kb: array<vec4<f32>, NV>;
    var kw: array<vec4<f32>, NV>;
    for (var c = 0u; c < NV; c++) {
        let i0 = lid + c * 4u * WG;
        if (i0 < P.n) { // slots past the row stay 0 (no loads: software adapters pay for each)
            ka[c] = qa(base, i0);
            kb[c] = qb(base, i0);
            kw[c] = qw(i0);
        }
    }
    var ss = 0.0;
    for (var c = 0u; c < NV; c++) {
        ka[c] = add_quad(base, lid + c * 4u * WG, ka[c], kb[c]);
        ss += dot(ka[c], ka[c]);
    }
    for (var i0 = lid + kept; i0 < P.n; i0 += 4u * WG) {
        let s = add_quad(base, i0, qa(base, i0), qb(base, i0));
        ss += dot(s, s);
    }
    let inv = 1.0 / sqrt(wg_sum(lid, ss) / f32(P.n) + P.eps);
    let one = select(0.0, 1.0, P.add_one != 0u);
    for (var c = 0u; c < NV; c++) {
        out_quad(base, lid + c * 4u * WG, ka[c], kw[c], inv, one);
    }
    for (var i0 = lid + kept; i0 < P.n; i0 += 4u * WG) {
        out_quad(base, i0, qa(base, i0), qw(i0), inv, one);
    }
    norm_q8(lid, base); // norm_plain.wgsl or norm_q8.wgsl
}
