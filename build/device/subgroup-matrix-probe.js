// Probes WebGPU's experimental subgroup matrices (tensor cores through
// Dawn's chromium-experimental-subgroup-matrix, behind its allow_unsafe_apis
// toggle) on the device machine: the adapter's matrix configurations, an
// 8-bit product checked against the CPU, and three throughputs of 16×16×32
// blocks, 2×2 of them per subgroup, on 132·16 workgroups:
//   raw       multiply-accumulate with the operands in registers;
//   scaled    each block's product stored to workgroup memory and scaled
//             into f32 accumulators by row and column scales, as a matmul
//             over weights and activations with a scale per block of 32
//             (Q8_0, the K-quants' sub-blocks, 8-bit activations) must;
//   dp4a      the packed dot product (dot4I8Packed) with the same scaling,
//             4×4 outputs per invocation, the integer tiled matmul's way.
// Run on the device through build/device/run.sh with
// DEVICE_PROBES=build/device/subgroup-matrix-probe.js (output in
// $OUT/probes.log); docs/PERFORMANCE.md has the H100's figures.
"use strict";
const path = require("path");
const {create, globals} = require(path.join(__dirname, "..", "node_modules", "webgpu"));
Object.assign(globalThis, globals);

const WG = 128; // 4 subgroups of 32
const GROUPS = 132 * 16;
const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

async function compile(dev, code, label) {
	dev.pushErrorScope("validation");
	const module = dev.createShaderModule({code});
	const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === "error");
	const pipe = errors.length ? null : dev.createComputePipeline({layout: "auto", compute: {module, entryPoint: "main"}});
	const err = await dev.popErrorScope();
	if (errors.length || err) {
		console.log(`${label}: does not compile: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join(" | ")} ${err ? err.message : ""}`.slice(0, 2000));
		return null;
	}
	return pipe;
}

async function read(dev, buf, bytes) {
	const rb = dev.createBuffer({size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST});
	const enc = dev.createCommandEncoder();
	enc.copyBufferToBuffer(buf, 0, rb, 0, bytes);
	dev.queue.submit([enc.finish()]);
	await rb.mapAsync(GPUMapMode.READ);
	const out = rb.getMappedRange().slice(0);
	rb.unmap();
	return out;
}

// run launches pipe over groups workgroups and returns its GPU time in ms.
async function run(dev, pipe, bufs, groups) {
	const group = dev.createBindGroup({layout: pipe.getBindGroupLayout(0), entries: bufs.map((b, i) => ({binding: i, resource: {buffer: b}}))});
	const qs = dev.createQuerySet({type: "timestamp", count: 2});
	const qb = dev.createBuffer({size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC});
	const enc = dev.createCommandEncoder();
	const pass = enc.beginComputePass({timestampWrites: {querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1}});
	pass.setPipeline(pipe);
	pass.setBindGroup(0, group);
	pass.dispatchWorkgroups(groups);
	pass.end();
	enc.resolveQuerySet(qs, 0, 2, qb, 0);
	dev.queue.submit([enc.finish()]);
	const t = new BigUint64Array(await read(dev, qb, 16));
	return Number(t[1] - t[0]) / 1e6;
}

async function rate(dev, label, code, bufs, ops) {
	const pipe = await compile(dev, code, label);
	if (!pipe) {
		return;
	}
	let best = Infinity;
	for (let i = 0; i < 4; i++) {
		best = Math.min(best, await run(dev, pipe, bufs, GROUPS)); // the first warms up
	}
	console.log(`${label}: ${best.toFixed(3)} ms, ${(ops / best / 1e9).toFixed(1)} TOPS (8-bit multiply-adds ×2)`);
}

(async () => {
	const gpu = create(["enable-dawn-features=allow_unsafe_apis", "disable-dawn-features=timestamp_quantization"]);
	const adapter = await gpu.requestAdapter({powerPreference: "high-performance"});
	console.log(`adapter: ${adapter.info.vendor} ${adapter.info.description}`);
	const configs = [...(adapter.info.subgroupMatrixConfigs || [])];
	console.log(`configs: ${configs.map((c) => `${c.componentType}→${c.resultComponentType} ${c.M}×${c.N}×${c.K}`).join(", ") || "none"}`);
	console.log(`shader-f16: ${adapter.features.has("shader-f16")}`);
	const need = ["chromium-experimental-subgroup-matrix", "subgroups", "timestamp-query"];
	const missing = need.filter((f) => !adapter.features.has(f));
	if (missing.length) {
		console.log(`missing ${missing.join(", ")}: nothing to measure`);
		process.exit(0);
	}
	// The scaled blocks stage 16 KiB of products and the scales beside them.
	const dev = await adapter.requestDevice({requiredFeatures: need,
		requiredLimits: {maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize}});
	const c = configs.find((c) => c.componentType === "i8" && c.resultComponentType === "i32");
	if (!c) {
		console.log("no i8→i32 configuration: nothing to measure");
		process.exit(0);
	}
	const {M, N, K} = c;
	const L = `subgroup_matrix_left<i8, ${K}, ${M}>`;
	const R = `subgroup_matrix_right<i8, ${N}, ${K}>`;
	const head = `enable chromium_experimental_subgroup_matrix, subgroups;
// Offsets must be uniform across the workgroup, the subgroup's index is not.
diagnostic(off, chromium.subgroup_matrix_uniformity);
@group(0) @binding(0) var<storage, read_write> A: array<i32>;
@group(0) @binding(1) var<storage, read_write> B: array<i32>;
@group(0) @binding(2) var<storage, read_write> C: array<i32>;
`;
	const load = (T, buf, stride) => `subgroupMatrixLoad<${T}, row_major>(&${buf}, 0u, ${stride}u)`;

	// One product against the CPU (offsets and strides count 8-bit elements).
	const a = new Int8Array(M * K), b = new Int8Array(K * N), want = new Int32Array(M * N);
	a.forEach((_, i) => (a[i] = ((Math.floor(i / K) * 7 + (i % K) * 3) % 23) - 11));
	b.forEach((_, i) => (b[i] = ((Math.floor(i / N) * 5 + (i % N) * 11) % 19) - 9));
	for (let m = 0; m < M; m++) {
		for (let n = 0; n < N; n++) {
			for (let k = 0; k < K; k++) {
				want[m * N + n] += a[m * K + k] * b[k * N + n];
			}
		}
	}
	const bufA = dev.createBuffer({size: M * K, usage: STORAGE()}), bufB = dev.createBuffer({size: K * N, usage: STORAGE()});
	const bufC = dev.createBuffer({size: 4 * 64 * 4 * M * N, usage: STORAGE()});
	dev.queue.writeBuffer(bufA, 0, a.buffer);
	dev.queue.writeBuffer(bufB, 0, b.buffer);
	const check = await compile(dev, `${head}
@compute @workgroup_size(32)
fn main() {
    subgroupMatrixStore<row_major>(&C, 0u, subgroupMatrixMultiply<i32>(${load(L, "A", K)}, ${load(R, "B", N)}), ${N}u);
}`, "check");
	if (!check) {
		process.exit(1);
	}
	await run(dev, check, [bufA, bufB, bufC], 1);
	const got = new Int32Array(await read(dev, bufC, 4 * M * N));
	const wrong = got.filter((v, i) => v !== want[i]).length;
	console.log(`i8 ${M}×${N}×${K} product: ${wrong} of ${M * N} values wrong`);

	const ops = (iters, perSubgroup) => 2 * GROUPS * (WG / 32) * iters * perSubgroup * M * N * K;
	const operands = `
    let sg = subgroupBroadcastFirst(lid / 32u);
    let a0 = ${load(L, "A", K)};
    let a1 = ${load(L, "A", K)};
    let b0 = ${load(R, "B", N)};
    let b1 = ${load(R, "B", N)};`;
	const RES = `subgroup_matrix_result<i32, ${N}, ${M}>`;
	await rate(dev, "raw", `${head}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${operands}
    var c00 = ${RES}(); var c01 = ${RES}(); var c10 = ${RES}(); var c11 = ${RES}();
    for (var i = 0u; i < 4096u; i++) {
        c00 = subgroupMatrixMultiplyAccumulate(a0, b0, c00);
        c01 = subgroupMatrixMultiplyAccumulate(a0, b1, c01);
        c10 = subgroupMatrixMultiplyAccumulate(a1, b0, c10);
        c11 = subgroupMatrixMultiplyAccumulate(a1, b1, c11);
    }
    let o = ((wid.x * ${WG / 32}u + sg) % 64u) * ${4 * M * N}u;
    subgroupMatrixStore<row_major>(&C, o, c00, ${N}u);
    subgroupMatrixStore<row_major>(&C, o + ${M * N}u, c01, ${N}u);
    subgroupMatrixStore<row_major>(&C, o + ${2 * M * N}u, c10, ${N}u);
    subgroupMatrixStore<row_major>(&C, o + ${3 * M * N}u, c11, ${N}u);
}`, [bufA, bufB, bufC], ops(4096, 4));

	const per = (4 * M * N) / 32; // a lane's share of the 2M×2N results
	await rate(dev, "scaled", `${head}
var<workgroup> R_sh: array<i32, ${(WG / 32) * 4 * M * N}>;
var<workgroup> S_sh: array<f32, 256>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {${operands}
    let lane = lid % 32u;
    S_sh[lid] = f32(lid) * 0.001;
    S_sh[lid + 128u] = f32(lid) * 0.002;
    var acc: array<f32, ${per}>;
    let base = sg * ${4 * M * N}u;
    for (var i = 0u; i < 512u; i++) {
        subgroupMatrixStore<row_major>(&R_sh, base, subgroupMatrixMultiply<i32>(a0, b0), ${2 * N}u);
        subgroupMatrixStore<row_major>(&R_sh, base + ${N}u, subgroupMatrixMultiply<i32>(a0, b1), ${2 * N}u);
        subgroupMatrixStore<row_major>(&R_sh, base + ${2 * M * N}u, subgroupMatrixMultiply<i32>(a1, b0), ${2 * N}u);
        subgroupMatrixStore<row_major>(&R_sh, base + ${2 * M * N + N}u, subgroupMatrixMultiply<i32>(a1, b1), ${2 * N}u);
        workgroupBarrier();
        let row_scale = S_sh[(i + lane) & 255u];
        for (var j = 0u; j < ${per}u; j++) {
            let e = j * 32u + lane;
            acc[j] += f32(R_sh[base + e]) * row_scale * S_sh[128u + e % ${2 * N}u];
        }
        workgroupBarrier();
    }
    var s = 0.0;
    for (var j = 0u; j < ${per}u; j++) { s += acc[j]; }
    C[(wid.x * ${WG}u + lid) % ${64 * 4 * M * N}u] = i32(s);
}`, [bufA, bufB, bufC], ops(512, 4));

	await rate(dev, "dp4a", `@group(0) @binding(0) var<storage, read_write> A: array<i32>;
@group(0) @binding(1) var<storage, read_write> B: array<i32>;
@group(0) @binding(2) var<storage, read_write> C: array<i32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    var a: array<u32, 32>;
    var b: array<u32, 32>;
    for (var j = 0u; j < 32u; j++) { a[j] = u32(A[j & 7u]) + lid; b[j] = u32(B[j & 7u]) ^ lid; }
    var acc: array<f32, 16>;
    for (var i = 0u; i < 512u; i++) {
        for (var r = 0u; r < 4u; r++) {
            for (var c = 0u; c < 4u; c++) {
                var d = 0;
                for (var k = 0u; k < 8u; k++) { d = dot4I8Packed(a[r * 8u + k], b[c * 8u + k]) + d; }
                acc[r * 4u + c] += f32(d) * f32(i); // one scale per block of 32
            }
        }
        a[i & 31u] += 1u;
    }
    var s = 0.0;
    for (var j = 0u; j < 16u; j++) { s += acc[j]; }
    C[(wid.x * ${WG}u + lid) % ${64 * 4 * M * N}u] = i32(s);
}`, [bufA, bufB, bufC], 2 * GROUPS * WG * 512 * 16 * 32);
	process.exit(0);
})().catch((e) => {
	console.error(e);
	process.exit(1);
});
