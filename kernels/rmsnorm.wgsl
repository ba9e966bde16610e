// out[r, i] = x[r, i] / sqrt(mean(x[r]²) + eps) * w'[i], w' = w or 1 + w.
// One workgroup per row; the sum of squares is accumulated in f32. A row is
// one workgroup's work, so its loads are issued four at a time (independent,
// so their latencies overlap): a decode row is latency-bound, not
// bandwidth-bound.
const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<ACT>;
@group(0) @binding(2) var<storage, read> Wn: array<f32>;
@group(0) @binding(3) var<storage, read_write> Out: array<ACT>;

// xv reads element i of the row at base, 0 past its end (the index is
// clamped, so the load itself is always in bounds).
fn xv(base: u32, i: u32) -> f32 {
    return select(0.0, f32(X[base + min(i, P.n - 1u)]), i < P.n);
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
    for (var i = lid; i < P.n; i += 4u * WG) {
        let v = vec4<f32>(xv(base, i), xv(base, i + WG), xv(base, i + 2u * WG), xv(base, i + 3u * WG));
        ss += dot(v, v);
    }
    let total = wg_sum(lid, ss);
    let inv = 1.0 / sqrt(total / f32(P.n) + P.eps);
    let one = select(0.0, 1.0, P.add_one != 0u);
    for (var i0 = lid; i0 < P.n; i0 += 4u * WG) {
        let v = vec4<f32>(xv(base, i0), xv(base, i0 + WG), xv(base, i0 + 2u * WG), xv(base, i0 + 3u * WG));
        for (var k = 0u; k < 4u; k++) {
            let i = i0 + k * WG;
            if (i < P.n) {
                Out[base + i] = ACT(v[k] * inv * (Wn[i] + one));
            }
        }
    }
    norm_q8(lid, base); // norm_plain.wgsl or norm_q8.wgsl
}
