// Runs a Go js/wasm program under Node with WebGPU from Dawn (npm "webgpu").
//
//   node host.js PROGRAM.wasm [ARGS...]
//
// Like Go's own lib/wasm/wasm_exec_node.js (Node's fs gives Go file access by
// absolute and relative path, the environment passes through) plus
// navigator.gpu. Use it through build/wasm-exec, which picks the Vulkan driver
// (lavapipe, SwiftShader or the real GPU) before Node starts.
//
// Environment:
//   DOPPLER_WASM_EXEC   path of Go's wasm_exec.js (matching the Go that built
//                       the program; build/wasm-exec sets it from `go env GOROOT`)
//   DOPPLER_DAWN_FLAGS  comma-separated Dawn toggles for create(), e.g.
//                       "enable-dawn-features=allow_unsafe_apis"
"use strict";

const fs = require("fs");
const path = require("path");

if (process.argv.length < 3) {
	console.error("usage: host.js PROGRAM.wasm [ARGS...]");
	process.exit(2);
}

globalThis.require = require;
globalThis.fs = fs;
globalThis.path = path;
globalThis.TextEncoder ??= require("util").TextEncoder;
globalThis.TextDecoder ??= require("util").TextDecoder;
globalThis.performance ??= require("perf_hooks").performance;
globalThis.crypto ??= require("crypto").webcrypto;

// navigator.gpu is created on first use, so programs that never touch WebGPU
// (most unit tests) do not load Dawn at all.
let gpu;
const navigator = {};
Object.defineProperty(navigator, "gpu", {
	enumerable: true,
	get() {
		if (gpu === undefined) {
			const { create, globals } = require(path.join(__dirname, "..", "node_modules", "webgpu"));
			Object.assign(globalThis, globals);
			const flags = (process.env.DOPPLER_DAWN_FLAGS || "").split(",").filter(Boolean);
			gpu = create(flags);
		}
		return gpu;
	},
});
Object.defineProperty(globalThis, "navigator", { value: navigator, configurable: true, writable: true });

const wasmExec = process.env.DOPPLER_WASM_EXEC;
if (!wasmExec) {
	console.error("host.js: DOPPLER_WASM_EXEC is not set (run through build/wasm-exec)");
	process.exit(2);
}
require(wasmExec);

const go = new Go();
go.argv = process.argv.slice(2);
go.env = goEnv(go.argv, Object.assign({ TMPDIR: require("os").tmpdir() }, process.env));
// Go's exit code ends Node at once: Dawn's instance must not keep it alive.
go.exit = (code) => process.exit(code);

// goEnv returns the environment for Go. wasm_exec.js fits argv and env in
// about 8 KiB of wasm memory; when a large environment (CI) would overflow
// it, only the variables Go programs here read are kept.
function goEnv(argv, env) {
	const size = (list) => list.reduce((n, s) => n + Buffer.byteLength(s) + 9, 0);
	const entries = Object.entries(env).map(([k, v]) => `${k}=${v}`);
	if (size(argv) + size(entries) < 7000) return env;
	const keep = /^(DOPPLER_|GO|BROWSERTEST_|HOME$|TMPDIR$|PATH$|PWD$|USER$|LANG$|LC_|TZ$|CI$)/;
	const kept = Object.fromEntries(Object.entries(env).filter(([k]) => keep.test(k)));
	console.error(`host.js: environment too large for Go's wasm_exec: passing only ${Object.keys(kept).length} of ${entries.length} variables`);
	return kept;
}

WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject)
	.then((result) => {
		process.on("exit", (code) => {
			// Node found nothing left to wait for while Go still runs: make Go
			// report its deadlock with stack traces, as Go's own runner does.
			if (code === 0 && !go.exited) {
				go._pendingEvent = { id: 0 };
				go._resume();
			}
		});
		return go.run(result.instance);
	})
	.catch((err) => {
		console.error(err);
		process.exit(1);
	});
