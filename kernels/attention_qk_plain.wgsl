// attention.wgsl's q/k hooks when q and k arrive normed and rotated: the
// query head is used as loaded, the fresh key read from KN.
fn prep_qk(lid: u32, hd4: u32, nb: u32, with_k: bool, pos: u32) {}

fn fresh_k(nb: u32, i: u32) -> ACT4 { return KN[nb + i]; }
