// Argmax, pass 1: workgroup (row r, block b) finds the largest of
// logits[r, b*BLOCK .. (b+1)*BLOCK) and its index (ties: lowest index; NaN
// never wins), writing (bits of value, index) to Part[r*blocks + b]. Each
// invocation issues its NV loads at once (a decode step waits on this
// pass: one memory round trip, not NV).
const WG: u32 = 256u;
const NV: u32 = 4u;
const BLOCK: u32 = WG * NV;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> L: array<ACT>;
@group(0) @binding(2) var<storage, read_write> Part: array<vec2<u32>>;

var<workgroup> bv: array<f32, WG>;
var<workgroup> bi: array<u32, WG>;

// better reports whether (v, i) beats (w, j).
fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
    return v > w || (v == w && i < j);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let g = wid.x + wid.y * nwg.x;
    let blocks = (P.vocab + BLOCK - 1u) / BLOCK;
    if (g >= P.rows * blocks) {
        return;
    }
    let r = g / blocks;
    let b = g % blocks;
    var best = -3.4e38;
    var idx = 0xffffffffu;
    var vals: array<f32, NV>;
    for (var k = 0u; k < NV; k++) {
        vals[k] = f32(L[r * P.vocab + min(b * BLOCK + lid + k * WG, P.vocab - 1u)]);
    }
    for (var k = 0u; k < NV; k++) {
        let i = b * BLOCK + lid + k * WG;
        if (i < P.vocab && better(vals[k], i, best, idx)) {
            best = vals[k];
            idx = i;
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
        Part[g] = vec2<u32>(bitcast<u32>(bv[0]), bi[0]);
    }
}
