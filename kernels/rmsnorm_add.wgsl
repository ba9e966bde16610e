// Fused residual add + RMSNorm, in place on the residual stream:
// A = A + B (stored in the activation type), Out = norm(A) * w' computed from
// the stored A, so fusing gives the same numbers as an add then a norm.
// Loads go four at a time, as in rmsnorm.wgsl; each invocation keeps the sums
// it stored in registers (at most 4·NV per invocation, else it reads back
// only the elements it wrote itself).
const WG: u32 = 256u;
const NV: u32 = 4u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> A: array<ACT>;
@group(0) @binding(2) var<storage, read> B: array<ACT>;
@group(0) @binding(3) var<storage, read> Wn: array<f32>;
@group(0) @binding(4) var<storage, read_write> Out: array<ACT>;

fn sumv(base: u32, i: u32) -> f32 {
    let j = base + min(i, P.n - 1u);
    return select(0.0, f32(ACT(f32(A[j]) + f32(B[j]))), i < P.n);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let r = wid.x + wid.y * nwg.x;
    if (r >= P.rows) {
        return;
    }
    let base = r * P.n;
    var ss = 0.0;
    var keep: array<vec4<f32>, NV>;
    var c = 0u;
    for (var i0 = lid; i0 < P.n; i0 += 4u * WG) {
        let v = vec4<f32>(sumv(base, i0), sumv(base, i0 + WG), sumv(base, i0 + 2u * WG), sumv(base, i0 + 3u * WG));
        for (var k = 0u; k < 4u; k++) {
            let i = i0 + k * WG;
            if (i < P.n) {
                A[base + i] = ACT(v[k]);
            }
        }
        if (c < NV) {
            keep[c] = v;
        }
        c++;
        ss += dot(v, v);
    }
    let total = wg_sum(lid, ss);
    let inv = 1.0 / sqrt(total / f32(P.n) + P.eps);
    let one = select(0.0, 1.0, P.add_one != 0u);
    c = 0u;
    for (var i0 = lid; i0 < P.n; i0 += 4u * WG) {
        var v: vec4<f32>;
        if (c < NV) {
            v = keep[c];
        } else {
            v = vec4<f32>(f32(A[base + min(i0, P.n - 1u)]), f32(A[base + min(i0 + WG, P.n - 1u)]),
                          f32(A[base + min(i0 + 2u * WG, P.n - 1u)]), f32(A[base + min(i0 + 3u * WG, P.n - 1u)]));
        }
        c++;
        for (var k = 0u; k < 4u; k++) {
            let i = i0 + k * WG;
            if (i < P.n) {
                Out[base + i] = ACT(v[k] * inv * (Wn[i] + one));
            }
        }
    }
}
