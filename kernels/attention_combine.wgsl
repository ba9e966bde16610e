// Combines the per-split partial softmax results (max, sum, acc[head_dim])
// of attention.wgsl: one workgroup per (row, head).
const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Part: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let rh = wid.x + wid.y * nwg.x;
    if (rh >= P.rows * P.heads) {
        return;
    }
    let hd = P.head_dim;
    let stride = hd + 2u;
    var m = -3.0e38;
    for (var s = 0u; s < P.splits; s++) {
        m = max(m, Part[(rh * P.splits + s) * stride]);
    }
    var l = 0.0;
    for (var s = 0u; s < P.splits; s++) {
        let b = (rh * P.splits + s) * stride;
        l += Part[b + 1u] * exp(Part[b] - m);
    }
    for (var d = lid; d < hd; d += WG) {
        var a = 0.0;
        for (var s = 0u; s < P.splits; s++) {
            let b = (rh * P.splits + s) * stride;
            a += Part[b + 2u + d] * exp(Part[b] - m);
        }
        O[rh * hd + d] = ACT(a / l);
    }
}
