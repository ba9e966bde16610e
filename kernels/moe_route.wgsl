// MoE router: per row, p = softmax(logits) over all experts; keep the `used`
// largest (ties: lower index); weight = p, or p / Σ kept p with norm.
// Writes Sel[r, j] (expert ids, descending weight) and Wt[r, j].
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> L: array<ACT>;
@group(0) @binding(2) var<storage, read_write> Sel: array<i32>;
@group(0) @binding(3) var<storage, read_write> Wt: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = gid.x + gid.y * nwg.x * 64u;
    if (r >= P.rows) {
        return;
    }
    let base = r * P.experts;
    var m = -3.4e38;
    for (var i = 0u; i < P.experts; i++) {
        m = max(m, f32(L[base + i]));
    }
    var sum = 0.0;
    for (var i = 0u; i < P.experts; i++) {
        sum += exp(f32(L[base + i]) - m);
    }
    var taken: array<u32, 8>; // bit set of chosen experts (≤ 256)
    var kept = 0.0;
    for (var j = 0u; j < P.used; j++) {
        var best = 0xffffffffu;
        var bl = 0.0;
        for (var i = 0u; i < P.experts; i++) {
            if ((taken[i >> 5u] & (1u << (i & 31u))) != 0u) {
                continue;
            }
            let l = f32(L[base + i]);
            if (best == 0xffffffffu || l > bl) {
                best = i;
                bl = l;
            }
        }
        taken[best >> 5u] |= 1u << (best & 31u);
        let p = exp(bl - m);
        kept += p;
        Sel[r * P.used + j] = i32(best);
        Wt[r * P.used + j] = p;
    }
    let div = select(sum, kept, P.norm != 0u);
    for (var j = 0u; j < P.used; j++) {
        Wt[r * P.used + j] = Wt[r * P.used + j] / div;
    }
}
