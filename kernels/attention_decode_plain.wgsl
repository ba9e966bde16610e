// attention_decode.wgsl's q/k hooks when q and k arrive normed and rotated:
// the query heads are used as loaded, the fresh key read from KN.
fn note_q(lid: u32, i: u32, x: vec4<f32>) {}

fn stage_k(lid: u32, hd4: u32, nb: u32) {}

fn prep_qk(lid: u32, gs: u32, hd4: u32, with_k: bool, pos: u32) {}

fn fresh_k(nb: u32, i: u32) -> vec4<f32> { return vec4<f32>(KN[nb + i]); }
