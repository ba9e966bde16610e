// Embedding gather: out[r, :] = scale * row ids[r] of a packed {hidden, vocab}
// table, for the rows of one bound chunk of the table (ids outside
// [row_start, row_start+row_count) belong to another chunk's dispatch).
// One invocation per (row, unit), linearized over x and y.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<ACT>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i >= P.rows * P.units) {
        return;
    }
    let r = i / P.units;
    let u = i % P.units;
    let id = ids[P.ids_off + r] - i32(P.row_start);
    if (id < 0 || id >= i32(P.row_count)) {
        return;
    }
    var v: array<f32, UNIT>;
    load_unit(P.wbase + u32(id) * P.row_bytes, u, &v);
    let o = r * P.hidden + u * UNIT;
    for (var e = 0u; e < UNIT; e++) {
        out[o + e] = ACT(v[e] * P.scale);
    }
}
