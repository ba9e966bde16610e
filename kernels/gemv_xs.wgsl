// The activations of a decode GEMV whose prologue (gemv_norm.wgsl)
// computes them: one row in workgroup memory, one spare
// quad after every 8 (the lanes of a row group read units 32 elements
// apart, which would otherwise share banks).
var<workgroup> xs: array<vec4<f32>, XQ>;

fn xs_at(q: u32) -> u32 { return q + (q >> 3u); }

// xv4 reads the activations at elements e..e+3 (e a multiple of 4).
fn xv4(e: u32) -> vec4<f32> { return xs[xs_at(e >> 2u)]; }
