// Row helpers shared by rmsnorm_add.wgsl and rmsnorm_add_pre.wgsl, which
// declare P, WG, the residual A, the input B and Out. An invocation owns
// the quads of elements i0, i0+WG, i0+2WG, i0+3WG of a row at base.

// Element i of A or B, 0 past the row's end.
fn av(base: u32, i: u32) -> f32 { return select(0.0, f32(A[base + min(i, P.n - 1u)]), i < P.n); }
fn bv(base: u32, i: u32) -> f32 { return select(0.0, f32(B[base + min(i, P.n - 1u)]), i < P.n); }

fn qa(base: u32, i0: u32) -> vec4<f32> { return vec4<f32>(av(base, i0), av(base, i0 + WG), av(base, i0 + 2u * WG), av(base, i0 + 3u * WG)); }
fn qb(base: u32, i0: u32) -> vec4<f32> { return vec4<f32>(bv(base, i0), bv(base, i0 + WG), bv(base, i0 + 2u * WG), bv(base, i0 + 3u * WG)); }

// add_quad stores A = round(a + h) for the quad at i0 and returns the
// stored values (0 past the end).
fn add_quad(base: u32, i0: u32, a: vec4<f32>, h: vec4<f32>) -> vec4<f32> {
    var s = vec4<f32>(0.0);
    for (var k = 0u; k < 4u; k++) {
        let i = i0 + k * WG;
        if (i < P.n) {
            let v = ACT(a[k] + h[k]);
            A[base + i] = v;
            s[k] = f32(v);
        }
    }
    return s;
}

// out_quad stores Out = s·inv·(w + one) for the quad at i0.
fn out_quad(base: u32, i0: u32, s: vec4<f32>, w: vec4<f32>, inv: f32, one: f32) {
    for (var k = 0u; k < 4u; k++) {
        let i = i0 + k * WG;
        if (i < P.n) {
            Out[base + i] = ACT(s[k] * inv * (w[k] + one));
        }
    }
}
