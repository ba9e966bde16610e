// Tiled matmul for prefill: y[r, yoff+n] = Σ_k x[r, k]·w[n, k]. A workgroup
// computes a TM×TN tile of outputs, stepping over k 32 at a time: the X tile
// is staged in shared memory as f32, and each invocation decodes one weight
// unit row (32 elements) into shared memory, so every weight byte is read
// once per TM rows. Each invocation accumulates a 8×4 micro-tile in f32.
const TM: u32 = 32u;
const TN: u32 = 64u;
const TK: u32 = 32u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> X: array<ACT>;
@group(0) @binding(3) var<storage, read_write> Y: array<ACT>;

var<workgroup> xs: array<f32, TM * (TK + 1u)>;
var<workgroup> ws: array<f32, TN * (TK + 1u)>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let g = wid.x + wid.y * nwg.x;
    let ntiles = (P.n + TN - 1u) / TN;
    let n0 = (g % ntiles) * TN;
    let r0 = (g / ntiles) * TM;
    if (r0 >= P.rows) {
        return;
    }
    let cg = lid % 16u; // columns cg*4 .. cg*4+3
    let rg = lid / 16u; // rows rg*8 .. rg*8+7
    var acc: array<array<f32, 4>, 8>;
    let wrow = n0 + lid;
    let row = P.wbase + wrow * P.row_bytes;
    var w: array<f32, UNIT>;
    for (var k0 = 0u; k0 < P.k; k0 += TK) {
        // Stage X[r0.., k0..k0+TK).
        for (var i = lid; i < TM * TK; i += 64u) {
            let r = i / TK;
            let kk = i % TK;
            var v = 0.0;
            if (r0 + r < P.rows && k0 + kk < P.k) {
                v = f32(X[(r0 + r) * P.k + k0 + kk]);
            }
            xs[r * (TK + 1u) + kk] = v;
        }
        // Decode the weight row n0+lid over the same k range.
        for (var kk = 0u; kk < TK; kk += UNIT) {
            if (wrow < P.n && k0 + kk < P.k) {
                load_unit(row, (k0 + kk) / UNIT, &w);
                for (var e = 0u; e < UNIT; e++) {
                    ws[lid * (TK + 1u) + kk + e] = w[e];
                }
            } else {
                for (var e = 0u; e < UNIT; e++) {
                    ws[lid * (TK + 1u) + kk + e] = 0.0;
                }
            }
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            var b: array<f32, 4>;
            for (var j = 0u; j < 4u; j++) {
                b[j] = ws[(cg * 4u + j) * (TK + 1u) + kk];
            }
            for (var i = 0u; i < 8u; i++) {
                let a = xs[(rg * 8u + i) * (TK + 1u) + kk];
                for (var j = 0u; j < 4u; j++) {
                    acc[i][j] += a * b[j];
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 8u; i++) {
        let r = r0 + rg * 8u + i;
        for (var j = 0u; j < 4u; j++) {
            let n = n0 + cg * 4u + j;
            if (r < P.rows && n < P.n) {
                Y[r * P.ldy + P.yoff + n] = ACT(acc[i][j]);
            }
        }
    }
}
