// y[r, yoff+n] = Σ_k x[r, k]·w[n, k] for the n of one bound weight chunk:
// the GEMV of decode (and of prefill below the tiled kernel's threshold).
// One workgroup per (NR output rows, TR activation rows): each invocation
// decodes weight units (in registers) and dots each with the TR rows, so
// every weight byte is read once per TR rows; NR rows per workgroup keep
// more loads in flight and share one reduction of NR·TR sums.
// XT and xdot come from the Go side: vec4 loads of X for block types.
const WG: u32 = 64u;
const NR: u32 = 4u;
const TR: u32 = 4u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> X: array<XT>;
@group(0) @binding(3) var<storage, read_write> Y: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let g = wid.x + wid.y * nwg.x;
    let ntiles = (P.n + NR - 1u) / NR;
    let n0 = (g % ntiles) * NR;
    let r0 = (g / ntiles) * TR;
    if (r0 >= P.rows) {
        return;
    }
    let nr = min(TR, P.rows - r0);
    let nn = min(NR, P.n - n0);
    var acc: array<f32, 16>;
    var w: array<f32, UNIT>;
    for (var u = lid; u < P.units; u += WG) {
        // Constant trip counts keep acc's indices static (registers, not
        // local memory); the bounds are checked inside.
        for (var j = 0u; j < NR; j++) {
            if (j < nn) {
                load_unit(P.wbase + (n0 + j) * P.row_bytes, u, &w);
                for (var t = 0u; t < TR; t++) {
                    if (t < nr) {
                        acc[j * TR + t] += xdot((r0 + t) * P.k + u * UNIT, &w);
                    }
                }
            }
        }
    }
    let s = wg_sum16(lid, &acc);
    if (lid < 16u) {
        let j = lid / TR;
        let t = lid % TR;
        if (j < nn && t < nr) {
            Y[(r0 + t) * P.ldy + P.yoff + n0 + j] = ACT(s);
        }
    }
}
