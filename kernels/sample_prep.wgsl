// Sampling, pass 1: S[r, i] = logits[r, i] as f32 with the repetition
// penalty applied to the tokens in row r's history (l/p when positive, l·p
// otherwise; once per distinct token, however often it occurs).
//
// Hist holds per row hist_stride = window+1 int32: [0] the number of tokens
// recorded so far, then a ring of the last `window` tokens (token n at
// 1 + n % window).
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> SP: SampleParams;
@group(0) @binding(2) var<storage, read> L: array<ACT>;
@group(0) @binding(3) var<storage, read> Hist: array<i32>;
@group(0) @binding(4) var<storage, read_write> S: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    if (t >= P.rows * P.vocab) {
        return;
    }
    let r = t / P.vocab;
    let i = i32(t % P.vocab);
    var l = f32(L[t]);
    if (SP.penalty != 1.0 && P.window > 0u) {
        let hb = r * (P.window + 1u);
        let n = min(u32(max(Hist[hb], 0)), P.window);
        for (var j = 0u; j < n; j++) {
            if (Hist[hb + 1u + j] == i) {
                l = select(l * SP.penalty, l / SP.penalty, l > 0.0);
                break;
            }
        }
    }
    S[t] = l;
}
