// The norm kernels' hook norm_q8 where the norm stores only Out (see
// norm_q8.wgsl).
fn norm_q8(lid: u32, base: u32) {}
