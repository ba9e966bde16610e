// Fills the buffer `doppler roofline` reads with a known pattern: word w of
// the binding gets roofline_word(base + w), where base is the binding's first
// word in the whole buffer. The host sums the same formula to check that the
// read kernel saw every word. The pattern is not compressible, so a GPU that
// compresses memory cannot shortcut the reads.

struct Params {
	base: u32, // index of this binding's first u32 word in the whole buffer
}

@group(0) @binding(0) var<storage, read_write> dst: array<vec4<u32>>;
@group(0) @binding(1) var<uniform> params: Params;

// roofline_word must match rooflineWord in engine/cmd/doppler.
fn roofline_word(i: u32) -> u32 {
	var x = i * 0x9E3779B1u + 0x7F4A7C15u;
	x ^= x >> 15u;
	x *= 0x85EBCA77u;
	x ^= x >> 13u;
	return x;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>) {
	let n = arrayLength(&dst);
	let stride = groups.x * 256u;
	for (var i = gid.x; i < n; i += stride) {
		let w = params.base + 4u * i;
		dst[i] = vec4<u32>(roofline_word(w), roofline_word(w + 1u), roofline_word(w + 2u), roofline_word(w + 3u));
	}
}
