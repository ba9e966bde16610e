// Post-norm, residual add and the next pre-norm in one pass (Gemma 2/3's
// sandwich norms): A = A + norm(B)·w1 in place (norm(B) rounded to the
// activation type first, as the unfused norm would store it), then
// Out = norm(A)·w2' from the stored A, w2' = w2 or 1 + w2.
//
// A launch of one row is all latency: every load it needs (B, A, w1, w2)
// is issued up front, before the first reduction, four at a time into
// registers (NV quads per invocation, rows up to 4·WG·NV elements: a loop of
// constant trip count, unrolled, so the arrays stay in registers); longer
// rows read the rest as they go.
const WG: u32 = 256u;
const NV: u32 = 4u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> A: array<ACT>;
@group(0) @binding(2) var<storage, read> B: array<ACT>;
@group(0) @binding(3) var<storage, read> W1: array<f32>;
@group(0) @binding(4) var<storage, read> W2: array<f32>;
@group(0) @binding(5) var<storage, read_write> Out: array<ACT>;

// The norm weights' quads at i0 (0 past the end); the rest is
// norm_rows.wgsl.
fn w1v(i: u32) -> f32 { return select(0.0, W1[min(i, P.n - 1u)], i < P.n); }
fn w2v(i: u32) -> f32 { return select(0.0, W2[min(i, P.n - 1u)], i < P.n); }
fn qw1(i0: u32) -> vec4<f32> { return vec4<f32>(w1v(i0), w1v(i0 + WG), w1v(i0 + 2u * WG), w1v(i0 + 3u * WG)); }
fn qw2(i0: u32) -> vec4<f32> { return vec4<f32>(w2v(i0), w2v(i0 + WG), w2v(i0 + 2u * WG), w2v(i0 + 3u * WG)); }

// The post-norm's output, rounded as the unfused norm would store it.
fn normed(b: vec4<f32>, w1: vec4<f32>, inv1: f32) -> vec4<f32> { return vec4<f32>(ACT4(b * inv1 * w1)); }

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
    var kb: array<vec4<f32>, NV>;
    var ka: array<vec4<f32>, NV>;
    var k1: array<vec4<f32>, NV>;
    var k2: array<vec4<f32>, NV>;
    var ss = 0.0;
    for (var c = 0u; c < NV; c++) {
        let i0 = lid + c * 4u * WG;
        if (i0 < P.n) { // slots past the row stay 0 (no loads: software adapters pay for each)
            kb[c] = qb(base, i0);
            ka[c] = qa(base, i0);
            k1[c] = qw1(i0);
            k2[c] = qw2(i0);
            ss += dot(kb[c], kb[c]);
        }
    }
    for (var i0 = lid + kept; i0 < P.n; i0 += 4u * WG) {
        let v = qb(base, i0);
        ss += dot(v, v);
    }
    let inv1 = 1.0 / sqrt(wg_sum(lid, ss) / f32(P.n) + P.eps);
    ss = 0.0;
    for (var c = 0u; c < NV; c++) {
        ka[c] = add_quad(base, lid + c * 4u * WG, ka[c], normed(kb[c], k1[c], inv1));
        ss += dot(ka[c], ka[c]);
    }
    for (var i0 = lid + kept; i0 < P.n; i0 += 4u * WG) {
        let s = add_quad(base, i0, qa(base, i0), normed(qb(base, i0), qw1(i0), inv1));
        ss += dot(s, s);
    }
    let inv2 = 1.0 / sqrt(wg_sum(lid, ss) / f32(P.n) + P.eps);
    let one = select(0.0, 1.0, P.add_one != 0u);
    for (var c = 0u; c < NV; c++) {
        out_quad(base, lid + c * 4u * WG, ka[c], k2[c], inv2, one);
    }
    for (var i0 = lid + kept; i0 < P.n; i0 += 4u * WG) {
        // Each invocation reads back only the elements it wrote itself.
        out_quad(base, i0, qa(base, i0), qw2(i0), inv2, one);
    }
    norm_q8(lid, base); // norm_plain.wgsl or norm_q8.wgsl
}
