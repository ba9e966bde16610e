// y[r, yoff+n] = Σ_k x[r, k]·w[n, k] for the n of one bound weight chunk:
// the GEMV of decode (and of prefill below the tiled kernel's threshold).
// One workgroup per (NR weight rows, TR activation rows): each group of RS
// invocations (a power of two from the Go side, gemvLanes) owns one weight
// row and strides over its units, so every invocation streams weights
// whatever the row length. wdot (from the weight's dtype) dots a unit with
// the activations as it decodes it, keeping no decoded unit: an array of
// them may not stay in registers. XT comes from the Go side (vec4 loads of
// X for block types).
const WG: u32 = 256u;
const NR: u32 = WG / RS;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> X: array<XT>;
@group(0) @binding(3) var<storage, read_write> Y: array<ACT>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    /*PROLOGUE*/ // a fused prologue fills the activations here (gemv_xs.wgsl)
    let g = wid.x + wid.y * nwg.x;
    let ntiles = (P.n + NR - 1u) / NR;
    let n = (g % ntiles) * NR + lid / RS;
    let r0 = (g / ntiles) * TR;
    let lane = lid & (RS - 1u);
    let part = lane & (WP - 1u);
    let live = n < P.n && r0 < P.rows;
    let nr = select(0u, min(TR, P.rows - r0), live);
    var acc = vec4<f32>(0.0);
    if (live) {
        let row = P.wbase + n * P.row_bytes;
        // UI iterations, a constant: unrolled, every unit's loads in flight
        for (var i = 0u; i < UI; i++) {
            let u = lane / WP + i * (RS / WP);
            if (UX || u < P.units) { // UX: the units fill every iteration
                for (var t = 0u; t < TR; t++) {
                    if (t < nr) {
                        acc[t] += wdot(row, u, part, (r0 + t) * P.k + u * UNIT);
                    }
                }
            }
        }
    }
    // Every invocation takes part in the reduction (it may synchronize).
    let s = rg_sumr(lid, acc);
    if (lane == 0u) {
        for (var t = 0u; t < nr; t++) {
            Y[(r0 + t) * P.ldy + P.yoff + n] = ACT(s[t]);
        }
    }
}
