// out[i] = act(gate[i]) * up[i]; act is glu_act.wgsl's.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> G: array<ACT>;
@group(0) @binding(2) var<storage, read> U: array<ACT>;
@group(0) @binding(3) var<storage, read_write> Out: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i >= P.n) {
        return;
    }
    Out[i] = ACT(glu_act(f32(G[i])) * f32(U[i]));
}
