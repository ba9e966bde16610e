// Two GEMVs of one input in one launch: y1[r, n] = x[r]·w1[n] for n < n1
// (w1 at binding 1, y1 at 3) and y2[r, n] = x[r]·w2[n] for n < n2 (w2 at
// binding 4, y2 at 5), one weight dtype. Laid out as matmul.wgsl (32
// invocations per weight row, NR rows and TR activation rows per
// workgroup); the rows of w1 come first, then those of w2.
const WG: u32 = 256u;
const NR: u32 = 8u;
const TR: u32 = 4u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> X: array<XT>;
@group(0) @binding(3) var<storage, read_write> Y: array<ACT>;
@group(0) @binding(5) var<storage, read_write> Y2: array<ACT>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let g = wid.x + wid.y * nwg.x;
    let total = P.n + P.n2;
    let ntiles = (total + NR - 1u) / NR;
    let n = (g % ntiles) * NR + lid / 32u;
    let r0 = (g / ntiles) * TR;
    let lane = lid & 31u;
    let live = n < total && r0 < P.rows;
    let first = n < P.n;
    let nr = select(0u, min(TR, P.rows - r0), live);
    var acc = vec4<f32>(0.0);
    var w: array<f32, UNIT>;
    if (live) {
        let row1 = P.wbase + n * P.row_bytes;
        let row2 = P.wbase2 + (n - select(P.n, 0u, first)) * P.row_bytes;
        for (var u = lane; u < P.units; u += 32u) {
            if (first) {
                load_unit(row1, u, &w);
            } else {
                load_unit2(row2, u, &w);
            }
            for (var t = 0u; t < TR; t++) {
                if (t < nr) {
                    acc[t] += xdot((r0 + t) * P.k + u * UNIT, &w);
                }
            }
        }
    }
    let s = rg_sum4(lid, acc);
    if (lane == 0u) {
        for (var t = 0u; t < nr; t++) {
            if (first) {
                Y[(r0 + t) * P.n + n] = ACT(s[t]);
            } else {
                Y2[(r0 + t) * P.n2 + n - P.n] = ACT(s[t]);
            }
        }
    }
}
