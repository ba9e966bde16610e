// Sampling, pass 2: the repetition penalty. One workgroup per row walks the
// last n = min(count, last_n) tokens of the row's history and sets
// S[token] = l / penalty when the logit l is positive, l * penalty
// otherwise. A token seen several times gets the same value from each
// occurrence (computed from the logit, never from S), so it is penalized
// once; the stores are atomic only because several invocations may write
// that same value.
//
// Hist holds per cache slot window+1 int32: [0] the number of tokens
// recorded so far, then a ring of the last `window` tokens (token n at
// 1 + n % window). Step[slot_off + r] is row r's slot.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> SP: SampleParams;
@group(0) @binding(2) var<storage, read> L: array<ACT>;
@group(0) @binding(3) var<storage, read> Hist: array<i32>;
@group(0) @binding(4) var<storage, read> Step: array<i32>;
@group(0) @binding(5) var<storage, read_write> S: array<atomic<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = wid.x + wid.y * nwg.x;
    if (r >= P.rows || SP.penalty == 1.0) {
        return;
    }
    let hb = u32(Step[P.slot_off + r]) * (P.window + 1u);
    let count = u32(max(Hist[hb], 0));
    let n = min(count, min(SP.last_n, P.window));
    for (var j = lid; j < n; j += 64u) {
        let tok = Hist[hb + 1u + (count - 1u - j) % P.window];
        if (tok < 0 || u32(tok) >= P.vocab) {
            continue;
        }
        let t = r * P.vocab + u32(tok);
        let l = f32(L[t]);
        atomicStore(&S[t], bitcast<u32>(select(l * SP.penalty, l / SP.penalty, l > 0.0)));
    }
}
