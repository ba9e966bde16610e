// Writes this step's k, v [rows, kv_heads, head_dim] into the layer's caches
// [slot][cache_len][kv_heads][head_dim] at index pos % cache_len (a ring
// buffer for sliding-window layers whose cache is shorter than the context).
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> K: array<ACT>;
@group(0) @binding(2) var<storage, read> V: array<ACT>;
@group(0) @binding(3) var<storage, read> step: array<i32>;
@group(0) @binding(4) var<storage, read_write> KC: array<ACT>;
@group(0) @binding(5) var<storage, read_write> VC: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    let per_row = P.kv_heads * P.head_dim;
    if (i >= P.rows * per_row) {
        return;
    }
    let r = i / per_row;
    let within = i % per_row;
    let p = u32(step[P.pos_off + r]) % P.cache_len;
    let slot = u32(step[P.slot_off + r / P.t]);
    let dst = (slot * P.cache_len + p) * per_row + within;
    KC[dst] = K[i];
    VC[dst] = V[i];
}
