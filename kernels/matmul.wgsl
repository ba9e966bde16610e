// y[r, yoff+n] = Σ_k x[r, k]·w[n, k] for the n of one bound weight chunk:
// the GEMV of decode (and of prefill below the tiled kernel's threshold).
// One workgroup per (NR weight rows, TR activation rows): each group of 32
// invocations owns RPG weight rows and strides over their units (decoded
// in registers), reading each activation unit once for its RPG rows, so
// every weight byte is read once per TR rows and every invocation streams
// weights whatever the row length. RPG comes from the Go side; XT, xload
// and udot too (vec4 loads of X for block types), and UNR, the units each
// invocation loads per round before using any.
const WG: u32 = 256u;
const NR: u32 = 8u * RPG;
const TR: u32 = 4u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> X: array<XT>;
@group(0) @binding(3) var<storage, read_write> Y: array<ACT>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let g = wid.x + wid.y * nwg.x;
    let ntiles = (P.n + NR - 1u) / NR;
    let n0 = (g % ntiles) * NR + (lid / 32u) * RPG;
    let r0 = (g / ntiles) * TR;
    let lane = lid & 31u;
    let live = n0 < P.n && r0 < P.rows;
    let nr = select(0u, min(TR, P.rows - r0), live);
    let nn = select(0u, min(RPG, P.n - n0), live);
    var acc: array<vec4<f32>, RPG>;
    var w: array<array<f32, UNIT>, RPG * UNR>;
    var x: XU;
    if (live) {
        // UNR units per invocation per round: all their weight loads are
        // issued before any is used. Constant trip counts keep acc and w in
        // registers.
        for (var u0 = lane; u0 < P.units; u0 += 32u * UNR) {
            for (var q = 0u; q < UNR; q++) {
                let u = u0 + 32u * q;
                for (var j = 0u; j < RPG; j++) {
                    if (u < P.units && j < nn) {
                        load_unit(P.wbase + (n0 + j) * P.row_bytes, u, &w[q * RPG + j]);
                    }
                }
            }
            for (var q = 0u; q < UNR; q++) {
                let u = u0 + 32u * q;
                for (var t = 0u; t < TR; t++) {
                    if (u < P.units && t < nr) {
                        xload((r0 + t) * P.k + u * UNIT, &x);
                        for (var j = 0u; j < RPG; j++) {
                            acc[j][t] += udot(&x, &w[q * RPG + j]);
                        }
                    }
                }
            }
        }
    }
    // Every invocation takes part in the reductions (they may synchronize).
    for (var j = 0u; j < RPG; j++) {
        let s = rg_sum4(lid, acc[j]);
        if (lane == 0u && j < nn) {
            for (var t = 0u; t < nr; t++) {
                Y[(r0 + t) * P.ldy + P.yoff + n0 + j] = ACT(s[t]);
            }
        }
    }
}
