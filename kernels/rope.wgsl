// In-place rotary embedding of x [rows, heads, head_dim] at positions
// pos[pos_off + r]. freqs[i] (dim/2 values, computed on the CPU in float64
// with any rope_freqs factors folded in) is the angle per position of pair i.
// Normal style rotates adjacent pairs (2i, 2i+1); neox the halves (i, i+dim/2).
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> X: array<ACT>;
@group(0) @binding(2) var<storage, read> pos: array<i32>;
@group(0) @binding(3) var<storage, read> freqs: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    if (t >= P.rows * P.heads * P.half) {
        return;
    }
    let i = t % P.half;
    let rh = t / P.half;
    let r = rh / P.heads;
    let theta = f32(pos[P.pos_off + r]) * freqs[i];
    let c = cos(theta);
    let s = sin(theta);
    var j = 2u * i;
    var k = 2u * i + 1u;
    if (P.neox != 0u) {
        j = i;
        k = i + P.half;
    }
    let base = rh * P.head_dim;
    let x0 = f32(X[base + j]);
    let x1 = f32(X[base + k]);
    X[base + j] = ACT(x0 * c - x1 * s);
    X[base + k] = ACT(x0 * s + x1 * c);
}
