// C[m][n] = sum_k A[m][k] * B[k][n], row-major f32, one invocation per output.
// A plain reference kernel: the tiled/quantized matmuls live in their own files.
struct Params {
    m: u32,
    n: u32,
    k: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 64u;
    if (idx >= params.m * params.n) {
        return;
    }
    let row = idx / params.n;
    let col = idx % params.n;
    var acc = 0.0;
    for (var i = 0u; i < params.k; i++) {
        acc += a[row * params.k + i] * b[i * params.n + col];
    }
    c[idx] = acc;
}
