// The sum of a split-k tiled matmul's partials (matmul_tiled.wgsl with
// P.splits > 1): y[r, yoff+n] = Σ_s part[s, r, n], one output per
// invocation, the splits added in order.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Part: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    let total = P.rows * P.n;
    if (i >= total) {
        return;
    }
    var s = 0.0;
    for (var k = 0u; k < P.splits; k++) {
        s += Part[k * total + i];
    }
    Y[(i / P.n) * P.ldy + P.yoff + i % P.n] = ACT(s);
}
