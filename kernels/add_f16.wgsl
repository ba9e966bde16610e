// out[i] = a[i] + b[i] over n f16 elements (needs shader-f16). The arrays
// hold vec2<f16> pairs so every element is 4-byte addressable; n may be odd
// (the last pair's second half is then padding).
enable f16;

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec2<f16>>;
@group(0) @binding(2) var<storage, read> b: array<vec2<f16>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec2<f16>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i * 2u >= params.n) {
        return;
    }
    out[i] = a[i] + b[i];
}
