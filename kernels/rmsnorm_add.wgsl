// Fused residual add + RMSNorm, in place on the residual stream:
// A = A + B (stored in the activation type), Out = norm(A) * w' computed from
// the stored A, so fusing gives the same numbers as an add then a norm.
const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> A: array<ACT>;
@group(0) @binding(2) var<storage, read> B: array<ACT>;
@group(0) @binding(3) var<storage, read> Wn: array<f32>;
@group(0) @binding(4) var<storage, read_write> Out: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let r = wid.x + wid.y * nwg.x;
    if (r >= P.rows) {
        return;
    }
    let base = r * P.n;
    var ss = 0.0;
    for (var i = lid; i < P.n; i += WG) {
        let s = ACT(f32(A[base + i]) + f32(B[base + i]));
        A[base + i] = s;
        let v = f32(s);
        ss += v * v;
    }
    let total = wg_sum(lid, ss);
    let inv = 1.0 / sqrt(total / f32(P.n) + P.eps);
    for (var i = lid; i < P.n; i += WG) {
        let g = Wn[i] + select(0.0, 1.0, P.add_one != 0u);
        // Each invocation reads back only the elements it wrote itself.
        Out[base + i] = ACT(f32(A[base + i]) * inv * g);
    }
}
