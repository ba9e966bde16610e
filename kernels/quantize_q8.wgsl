// A decode GEMV's activation row as 8-bit integers, for the GEMVs that dot
// them four at a time (wdot_*_q8.wgsl, dot4I8Packed): per block of 32,
// x ≈ d·q with d = max|x| / 127, as llama.cpp quantizes activations. Q holds
// for a row of K (P.k, a multiple of 32): K/4 words of four q (int8, lowest
// first); per block its d and Σx (f32 bits); per 16 elements Σq (i32).
// One invocation per quad: a block's 8 quads are 8 neighbours.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<ACT4>;
@group(0) @binding(2) var<storage, read_write> Q: array<u32>;

var<workgroup> qmax: array<f32, 256>;
var<workgroup> qsum: array<f32, 256>;
var<workgroup> qint: array<i32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let nq = P.k / 4u;
    let j = gid.x;
    let live = j < nq;
    let v = select(vec4<f32>(0.0), vec4<f32>(X[min(j, nq - 1u)]), live);
    let a = abs(v);
    qmax[lid] = max(max(a.x, a.y), max(a.z, a.w));
    qsum[lid] = v.x + v.y + v.z + v.w;
    workgroupBarrier();
    let b0 = lid & ~7u;
    var m = 0.0;
    var s = 0.0;
    for (var i = 0u; i < 8u; i++) {
        m = max(m, qmax[b0 + i]);
        s += qsum[b0 + i];
    }
    let d = m / 127.0;
    let q = vec4<i32>(round(v / select(1.0, d, d > 0.0)));
    qint[lid] = q.x + q.y + q.z + q.w;
    workgroupBarrier();
    if (live) {
        let u = vec4<u32>(q) & vec4<u32>(0xffu);
        Q[j] = u.x | (u.y << 8u) | (u.z << 16u) | (u.w << 24u);
        if ((lid & 7u) == 0u) {
            Q[nq + 2u * (j >> 3u)] = bitcast<u32>(d);
            Q[nq + 2u * (j >> 3u) + 1u] = bitcast<u32>(s);
        }
        if ((lid & 3u) == 0u) {
            Q[nq + nq / 4u + (j >> 2u)] = bitcast<u32>(qint[lid] + qint[lid + 1u] + qint[lid + 2u] + qint[lid + 3u]);
        }
    }
}
