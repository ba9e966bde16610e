// A decode GEMV (one activation row) fused with the residual add and the
// RMSNorm before it, one launch fewer: every workgroup computes the normed
// row itself into workgroup memory before its dot products (wdot reads it
// through xv4), and workgroup 0 also stores the residual sum S, which no
// workgroup of the launch reads. With the roundings of the norm kernels it
// replaces: NORM 1 is rmsnorm_add (S = A + B), NORM 2 rmsnorm_add_pre
// (S = A + norm(B)·W1, Gemma's post-norm); then x = norm(S)·(W2 + one).
// The row is P.k elements, a multiple of 4; each invocation loads its NQ
// quads (a constant from the Go side) up front, before any reduction.
@group(0) @binding(2) var<storage, read> A: array<ACT4>;
@group(0) @binding(NORM_B) var<storage, read> B: array<ACT4>;
@group(0) @binding(NORM_B + 1u) var<storage, read> NW1: array<vec4<f32>>;
@group(0) @binding(NORM_B + 2u) var<storage, read> NW2: array<vec4<f32>>;
@group(0) @binding(NORM_B + 3u) var<storage, read_write> S: array<ACT4>;

// prologue fills xs (gemv_xs.wgsl) with the normed row; every invocation
// calls it (it synchronizes).
fn prologue(lid: u32, g: u32) {
    let nq = P.k / 4u;
    var aq: array<vec4<f32>, NQ>;
    var bq: array<vec4<f32>, NQ>;
    var w1: array<vec4<f32>, NQ>;
    var w2: array<vec4<f32>, NQ>;
    var ss = 0.0;
    for (var c = 0u; c < NQ; c++) {
        let j = lid + c * WG;
        if (j < nq) {
            aq[c] = vec4<f32>(A[j]);
            bq[c] = vec4<f32>(B[j]);
            if (NORM == 2u) {
                w1[c] = NW1[j];
            }
            w2[c] = NW2[j];
            ss += dot(bq[c], bq[c]);
        }
    }
    var inv1 = 1.0;
    if (NORM == 2u) {
        inv1 = 1.0 / sqrt(wg_sum(lid, ss) / f32(P.k) + P.norm_eps);
    }
    ss = 0.0;
    for (var c = 0u; c < NQ; c++) {
        let j = lid + c * WG;
        if (j < nq) {
            var h = bq[c];
            if (NORM == 2u) {
                h = vec4<f32>(ACT4(h * inv1 * w1[c])); // as the post-norm would store it
            }
            let s = ACT4(aq[c] + h);
            if (g == 0u) {
                S[j] = s;
            }
            aq[c] = vec4<f32>(s);
            ss += dot(aq[c], aq[c]);
        }
    }
    let inv2 = 1.0 / sqrt(wg_sum(lid, ss) / f32(P.k) + P.norm_eps);
    let one = f32(P.norm_one);
    for (var c = 0u; c < NQ; c++) {
        let j = lid + c * WG;
        if (j < nq) {
            xs[xs_at(j)] = vec4<f32>(ACT4(aq[c] * inv2 * (w2[c] + one)));
        }
    }
    workgroupBarrier();
}
