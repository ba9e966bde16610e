// Expert GEMV: y[v, n] = Σ_k x[xrow(v), k]·w_e[n, k] with e = Sel[v] the
// expert of virtual row v (row r's j-th choice is v = r*used + j), for the
// experts held by one bound chunk [exp_start, exp_start+exp_count). Only the
// selected experts' weights are read. xrow(v) = v / x_div (x_div = used for
// the gate/up projections of x, 1 for the down projection of each v).
const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> X: array<ACT>;
@group(0) @binding(3) var<storage, read> Sel: array<i32>;
@group(0) @binding(4) var<storage, read_write> Y: array<ACT>;

var<workgroup> expert_sh: i32;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32> /*SG_PARAMS*/) {
    /*SG_INIT*/
    let g = wid.x + wid.y * nwg.x;
    let n = g % P.n;
    let v = g / P.n;
    if (v >= P.vrows) {
        return;
    }
    if (lid == 0u) {
        expert_sh = Sel[v] - i32(P.exp_start);
    }
    let e = workgroupUniformLoad(&expert_sh);
    if (e < 0 || e >= i32(P.exp_count)) {
        return;
    }
    let row = P.wbase + u32(e) * P.expert_bytes + n * P.row_bytes;
    let xb = (v / P.x_div) * P.k;
    var acc = 0.0;
    var w: array<f32, UNIT>;
    for (var u = lid; u < P.units; u += WG) {
        load_unit(row, u, &w);
        var s = 0.0;
        for (var i = 0u; i < UNIT; i++) {
            s += w[i] * f32(X[xb + u * UNIT + i]);
        }
        acc += s;
    }
    let s = wg_sum(lid, acc);
    if (lid == 0u) {
        Y[v * P.n + n] = ACT(s);
    }
}
