// Three GEMVs of one input in one launch, as attention's query, key and
// value projections: y1 = x·w1 for n < n1 (w1 at binding 1, y1 at 3), y2 =
// x·w2 (w2 at 4, y2 at 5), y3 = x·w3 (w3 at 6, y3 at 7). The weights share
// the row length and unit but not always the dtype (Q4_K_M stores values
// in more bits), so each has its own loader. Laid out as matmul.wgsl (RS
// invocations per weight row, NR rows and TR activation rows per
// workgroup); the rows of w1 come first, then those of w2, then w3.
const WG: u32 = 256u;
const NR: u32 = WG / RS;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> X: array<XT>;
@group(0) @binding(3) var<storage, read_write> Y: array<ACT>;
@group(0) @binding(5) var<storage, read_write> Y2: array<ACT>;
@group(0) @binding(7) var<storage, read_write> Y3: array<ACT>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    /*PROLOGUE*/ // a fused prologue fills the activations here (gemv_xs.wgsl)
    let g = wid.x + wid.y * nwg.x;
    let total = P.n + P.n2 + P.n3;
    let ntiles = (total + NR - 1u) / NR;
    let n = (g % ntiles) * NR + lid / RS;
    let r0 = (g / ntiles) * TR;
    let lane = lid & (RS - 1u);
    let part = lane & (WP - 1u);
    let live = n < total && r0 < P.rows;
    // Which weight this row group reads, and its row there.
    var which = 0u;
    var row = n;
    if (n >= P.n + P.n2) {
        which = 2u;
        row = n - P.n - P.n2;
    } else if (n >= P.n) {
        which = 1u;
        row = n - P.n;
    }
    let nr = select(0u, min(TR, P.rows - r0), live);
    var acc = vec4<f32>(0.0);
    if (live) {
        let base = select(select(P.wbase + row * P.row_bytes, P.wbase2 + row * P.row_bytes2, which == 1u),
                          P.wbase3 + row * P.row_bytes3, which == 2u);
        // UI iterations, a constant: unrolled, every unit's loads in flight
        for (var i = 0u; i < UI; i++) {
            let u = lane / WP + i * (RS / WP);
            if (UX || u < P.units) { // UX: the units fill every iteration
                for (var t = 0u; t < TR; t++) {
                    if (t < nr) {
                        let xb = (r0 + t) * P.k + u * UNIT;
                        if (which == 0u) {
                            acc[t] += wdot(base, u, part, xb);
                        } else if (which == 1u) {
                            acc[t] += wdot2(base, u, part, xb);
                        } else {
                            acc[t] += wdot3(base, u, part, xb);
                        }
                    }
                }
            }
        }
    }
    let s = rg_sumr(lid, acc);
    if (lane == 0u) {
        for (var t = 0u; t < nr; t++) {
            if (which == 0u) {
                Y[(r0 + t) * P.n + row] = ACT(s[t]);
            } else if (which == 1u) {
                Y2[(r0 + t) * P.n2 + row] = ACT(s[t]);
            } else {
                Y3[(r0 + t) * P.n3 + row] = ACT(s[t]);
            }
        }
    }
}
