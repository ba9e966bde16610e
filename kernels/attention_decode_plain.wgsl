// attention_decode.wgsl's q/k hooks when q and k arrive normed and rotated:
// the query heads are used as loaded, the fresh key read from KN.
fn prep_q(lid: u32, gs: u32, hd4: u32, pos: u32) {}

fn prep_k(lid: u32, hd4: u32, nb: u32, pos: u32) {}

fn fresh_k(nb: u32, i: u32) -> vec4<f32> { return vec4<f32>(KN[nb + i]); }
