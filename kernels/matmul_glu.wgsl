// The gated feed-forward's first half in one GEMV: y[r, n] = act(g)·u with
// g = x[r]·gate[n] and u = x[r]·up[n] (gate at binding 1, up at binding 4,
// one dtype), each rounded to the activation type first, as the separate
// matmuls would store them. Laid out as matmul.wgsl: RS invocations per
// weight row, NR rows and TR activation rows per workgroup.
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
    var ag = vec4<f32>(0.0);
    var au = vec4<f32>(0.0);
    if (live) {
        let grow = P.wbase + n * P.row_bytes;
        let urow = P.wbase2 + n * P.row_bytes;
        // UI iterations, a constant: unrolled, every unit's loads in flight
        for (var i = 0u; i < UI; i++) {
            let u = lane / WP + i * (RS / WP);
            if (UX || u < P.units) { // UX: the units fill every iteration
                for (var t = 0u; t < TR; t++) {
                    if (t < nr) {
                        let xb = (r0 + t) * P.k + u * UNIT;
                        ag[t] += wdot(grow, u, part, xb);
                        au[t] += wdot2(urow, u, part, xb);
                    }
                }
            }
        }
    }
    let sg = rg_sumr(lid, ag);
    let su = rg_sumr(lid, au);
    if (lane == 0u) {
        for (var t = 0u; t < nr; t++) {
            Y[(r0 + t) * P.ldy + P.yoff + n] = ACT(glu_act(f32(ACT(sg[t]))) * f32(ACT(su[t])));
        }
    }
}
