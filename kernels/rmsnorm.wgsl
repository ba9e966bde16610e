// out[r, i] = x[r, i] / sqrt(mean(x[r]²) + eps) * w'[i], w' = w or 1 + w.
// One workgroup per row; the sum of squares is accumulated in f32.
const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<ACT>;
@group(0) @binding(2) var<storage, read> Wn: array<f32>;
@group(0) @binding(3) var<storage, read_write> Out: array<ACT>;

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
        let v = f32(X[base + i]);
        ss += v * v;
    }
    let total = wg_sum(lid, ss);
    let inv = 1.0 / sqrt(total / f32(P.n) + P.eps);
    for (var i = lid; i < P.n; i += WG) {
        let g = Wn[i] + select(0.0, 1.0, P.add_one != 0u);
        Out[base + i] = ACT(f32(X[base + i]) * inv * g);
    }
}
