// A decode GEMV of the attention's output fused with the attention's
// combine pass (attention_combine.wgsl), one launch fewer per layer: every
// workgroup merges the split partials (per head and split a record of
// (max, sum, 0, 0) and acc[head_dim] as quads, from binding 2 in X's
// place) into the row in workgroup memory, with the combine's roundings,
// before its dot products (wdot reads it through xv4). The row is
// P.c_heads × P.c_dim elements.
@group(0) @binding(2) var<storage, read> Part: array<vec4<f32>>;

var<workgroup> cw: array<f32, CMAX>; // each split's weight exp(max_s - max), head-major
var<workgroup> cl: array<f32, 64>;   // each head's softmax sum

// prologue fills xs (gemv_xs.wgsl) with the combined row; every invocation
// calls it (it synchronizes).
fn prologue(lid: u32, g: u32) {
    let hd = P.c_dim;
    let splits = P.c_splits;
    let stride = hd / 4u + 1u; // a split's record: (max, sum, 0, 0), then its quads
    // A run of 32 invocations per head, WG / 32 heads a round: its max and
    // sum are run reductions.
    let j = lid & 31u;
    for (var h0 = 0u; h0 < P.c_heads; h0 += WG / 32u) {
        let h = h0 + lid / 32u;
        let live = h < P.c_heads;
        var mv = -3.0e38;
        if (live) {
            for (var s = j; s < splits; s += 32u) {
                mv = max(mv, Part[(h * splits + s) * stride].x);
            }
        }
        let m = run_max(lid, mv);
        var lv = 0.0;
        if (live) {
            for (var s = j; s < splits; s += 32u) {
                let ml = Part[(h * splits + s) * stride].xy;
                let e = exp(ml.x - m);
                cw[h * splits + s] = e;
                lv += ml.y * e;
            }
        }
        let l = run_sum(lid, lv, 32u);
        if (live && j == 0u) {
            cl[h] = l;
        }
    }
    workgroupBarrier();
    // Each invocation a quad of the row at a time, four splits a round into
    // separate sums (their loads in flight together), added as the combine
    // adds them.
    let nq = P.c_heads * hd / 4u;
    for (var q = lid; q < nq; q += WG) {
        let h = (4u * q) / hd;
        let d = 4u * q - h * hd;
        let base = h * splits * stride + 1u + d / 4u;
        let wb = h * splits;
        var a0 = vec4<f32>(0.0);
        var a1 = vec4<f32>(0.0);
        var a2 = vec4<f32>(0.0);
        var a3 = vec4<f32>(0.0);
        var s = 0u;
        for (; s + 4u <= splits; s += 4u) {
            a0 += Part[base + s * stride] * cw[wb + s];
            a1 += Part[base + (s + 1u) * stride] * cw[wb + s + 1u];
            a2 += Part[base + (s + 2u) * stride] * cw[wb + s + 2u];
            a3 += Part[base + (s + 3u) * stride] * cw[wb + s + 3u];
        }
        for (; s < splits; s++) {
            a0 += Part[base + s * stride] * cw[wb + s];
        }
        xs[xs_at(q)] = vec4<f32>(ACT4((a0 + a1 + a2 + a3) / cl[h]));
    }
    workgroupBarrier();
}
