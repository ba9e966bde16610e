// Read-bandwidth probe for `doppler roofline`: every invocation streams
// vec4<u32> words of `src` (grid-stride, four independent loads in flight per
// step so the memory system stays busy) and sums them. The sums meet in one
// atomic, so no read can be dropped by the compiler and the host can check
// the total against the checksum of what it wrote (mod 2^32).
//
// Dispatch as a 1D grid of at most maxComputeWorkgroupsPerDimension groups;
// the loop covers the whole binding whatever the grid size.

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> total: array<atomic<u32>>;

const WG: u32 = 256u;
var<workgroup> partial: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) groups: vec3<u32>) {
	let n = arrayLength(&src);
	let stride = groups.x * WG;
	var a = vec4<u32>(0u);
	var b = vec4<u32>(0u);
	var c = vec4<u32>(0u);
	var d = vec4<u32>(0u);
	var i = gid.x;
	// Main body: four loads per step, all in bounds.
	loop {
		if (i + 3u * stride >= n) { break; }
		a += src[i];
		b += src[i + stride];
		c += src[i + 2u * stride];
		d += src[i + 3u * stride];
		i += 4u * stride;
	}
	// Tail: fewer than four strides left.
	loop {
		if (i >= n) { break; }
		a += src[i];
		i += stride;
	}
	let v = a + b + c + d;
	partial[lid] = v.x + v.y + v.z + v.w;
	workgroupBarrier();
	for (var s = WG / 2u; s > 0u; s >>= 1u) {
		if (lid < s) {
			partial[lid] += partial[lid + s];
		}
		workgroupBarrier();
	}
	if (lid == 0u) {
		atomicAdd(&total[0], partial[0]);
	}
}
