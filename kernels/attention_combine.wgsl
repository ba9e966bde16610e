// Combines the per-split partial softmax results of the attention kernels
// (a split's record: (max, sum, 0, 0), then acc[head_dim] as quads): one
// workgroup per (row, head). Each split's weight
// exp(max_s - max) is computed once into workgroup memory, then every
// invocation sums one output dimension over the splits with independent
// loads (a decode step waits on this pass: latency matters, not work).
const WG: u32 = 256u;
const MAXS: u32 = 256u; // splits whose weights are staged
const NEG: f32 = -3.0e38;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Part: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> O: array<ACT>;

var<workgroup> wsh: array<f32, MAXS>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let rh = wid.x + wid.y * nwg.x;
    if (rh >= P.rows * P.heads) {
        return;
    }
    // A split's record: (max, sum, 0, 0), then head_dim / 4 quads.
    let hd4 = P.head_dim / 4u;
    let stride = hd4 + 1u;
    let base = rh * P.splits * stride;
    var mv = NEG;
    for (var s = lid; s < P.splits; s += WG) {
        mv = max(mv, Part[base + s * stride].x);
    }
    let m = wg_max(lid, mv);
    var lv = 0.0;
    for (var s = lid; s < P.splits; s += WG) {
        let ml = Part[base + s * stride].xy;
        let e = exp(ml.x - m);
        lv += ml.y * e;
        if (s < MAXS) {
            wsh[s] = e;
        }
    }
    let l = wg_sum(lid, lv); // its barriers publish wsh
    // One output dimension per invocation (a head's quads alone would
    // leave most invocations idle): the four of a quad read its vec4 once.
    for (var d = lid; d < P.head_dim; d += WG) {
        let b = base + 1u + d / 4u;
        let c = d & 3u;
        // Four splits a round into separate sums: their loads are
        // independent, so they are in flight together.
        var a = vec4<f32>(0.0);
        var s = 0u;
        for (; s + 4u <= P.splits; s += 4u) {
            let p = vec4<f32>(Part[b + s * stride][c], Part[b + (s + 1u) * stride][c], Part[b + (s + 2u) * stride][c],
                              Part[b + (s + 3u) * stride][c]);
            a += p * vec4<f32>(split_weight(s, base, stride, m), split_weight(s + 1u, base, stride, m),
                               split_weight(s + 2u, base, stride, m), split_weight(s + 3u, base, stride, m));
        }
        for (; s < P.splits; s++) {
            a.x += Part[b + s * stride][c] * split_weight(s, base, stride, m);
        }
        O[rh * P.head_dim + d] = ACT((a.x + a.y + a.z + a.w) / l);
    }
}

// split_weight is exp(max_s - max) of split s: staged in wsh for the first
// MAXS splits.
fn split_weight(s: u32, base: u32, stride: u32, m: f32) -> f32 {
    if (s < MAXS) {
        return wsh[s];
    }
    return exp(Part[base + s * stride].x - m);
}
