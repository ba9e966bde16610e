// Argmax, pass 2: one workgroup per row reduces the row's block winners and
// writes the token id to out[out_off + r] (e.g. the next step's ids buffer).
const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Part: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;

var<workgroup> bv: array<f32, WG>;
var<workgroup> bi: array<u32, WG>;

fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
    return v > w || (v == w && i < j);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = wid.x + wid.y * nwg.x;
    if (r >= P.rows) {
        return;
    }
    var best = -3.4e38;
    var idx = 0xffffffffu;
    for (var b = lid; b < P.blocks; b += WG) {
        let e = Part[r * P.blocks + b];
        let v = bitcast<f32>(e.x);
        if (better(v, e.y, best, idx)) {
            best = v;
            idx = e.y;
        }
    }
    bv[lid] = best;
    bi[lid] = idx;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s && better(bv[lid + s], bi[lid + s], bv[lid], bi[lid])) {
            bv[lid] = bv[lid + s];
            bi[lid] = bi[lid + s];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        out[P.out_off + r] = i32(bi[0]);
    }
}
