// Post-norm, residual add and the next pre-norm in one pass (Gemma 2/3's
// sandwich norms): A = A + norm(B)·w1 in place (norm(B) rounded to the
// activation type first, as the unfused norm would store it), then
// Out = norm(A)·w2' from the stored A, w2' = w2 or 1 + w2. Loads go four
// at a time, as in rmsnorm.wgsl, and up to 4·NV values per invocation stay
// in registers between the passes.
const WG: u32 = 256u;
const NV: u32 = 4u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> A: array<ACT>;
@group(0) @binding(2) var<storage, read> B: array<ACT>;
@group(0) @binding(3) var<storage, read> W1: array<f32>;
@group(0) @binding(4) var<storage, read> W2: array<f32>;
@group(0) @binding(5) var<storage, read_write> Out: array<ACT>;

fn bv(base: u32, i: u32) -> f32 {
    return select(0.0, f32(B[base + min(i, P.n - 1u)]), i < P.n);
}

fn quad(base: u32, i0: u32) -> vec4<f32> {
    return vec4<f32>(bv(base, i0), bv(base, i0 + WG), bv(base, i0 + 2u * WG), bv(base, i0 + 3u * WG));
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
    var keep: array<vec4<f32>, NV>;
    var ss = 0.0;
    var c = 0u;
    for (var i0 = lid; i0 < P.n; i0 += 4u * WG) {
        let v = quad(base, i0);
        if (c < NV) {
            keep[c] = v;
        }
        c++;
        ss += dot(v, v);
    }
    let inv1 = 1.0 / sqrt(wg_sum(lid, ss) / f32(P.n) + P.eps);
    ss = 0.0;
    c = 0u;
    for (var i0 = lid; i0 < P.n; i0 += 4u * WG) {
        var v: vec4<f32>;
        if (c < NV) {
            v = keep[c];
        } else {
            v = quad(base, i0);
        }
        for (var k = 0u; k < 4u; k++) {
            let i = i0 + k * WG;
            if (i < P.n) {
                let h = f32(ACT(v[k] * inv1 * W1[i]));
                let s = ACT(f32(A[base + i]) + h);
                A[base + i] = s;
                v[k] = f32(s);
            } else {
                v[k] = 0.0;
            }
        }
        if (c < NV) {
            keep[c] = v;
        }
        c++;
        ss += dot(v, v);
    }
    let inv2 = 1.0 / sqrt(wg_sum(lid, ss) / f32(P.n) + P.eps);
    let one = select(0.0, 1.0, P.add_one != 0u);
    c = 0u;
    for (var i0 = lid; i0 < P.n; i0 += 4u * WG) {
        var v: vec4<f32>;
        if (c < NV) {
            v = keep[c];
        } else {
            // Each invocation reads back only the elements it wrote itself.
            for (var k = 0u; k < 4u; k++) {
                v[k] = f32(A[base + min(i0 + k * WG, P.n - 1u)]);
            }
        }
        c++;
        for (var k = 0u; k < 4u; k++) {
            let i = i0 + k * WG;
            if (i < P.n) {
                Out[base + i] = ACT(v[k] * inv2 * (W2[i] + one));
            }
        }
    }
}
