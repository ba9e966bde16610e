// Combines a prompt chunk's per-split partial softmax results
// (attention_combine.wgsl's records: (max, sum, live splits, 0), then
// acc[head_dim] as quads) where the splits are few: one invocation per
// output quad of a (row, head), which reads every live split's record
// itself and weighs that split's quad, with no workgroup memory and no
// barrier (the general combine spends a workgroup and its reductions on
// each (row, head), most of it idle for a handful of splits).
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Part: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> O: array<ACT4>;

const NEG: f32 = -3.0e38;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    let hd4 = P.head_dim / 4u;
    let rh = i / hd4;
    if (rh >= P.rows * P.heads) {
        return;
    }
    let stride = hd4 + 1u;
    let base = rh * P.splits * stride;
    // The first split's record says how many hold keys (the prompt kernels'
    // store_stats): only those were written.
    let live = clamp(u32(Part[base].z), 1u, P.splits);
    var m = NEG;
    for (var s = 0u; s < live; s++) {
        m = max(m, Part[base + s * stride].x);
    }
    var l = 0.0;
    var a = vec4<f32>(0.0);
    for (var s = 0u; s < live; s++) {
        let rec = base + s * stride;
        let e = exp(Part[rec].x - m);
        l += Part[rec].y * e;
        a += Part[rec + 1u + i % hd4] * e;
    }
    O[i] = ACT4(a / l);
}
