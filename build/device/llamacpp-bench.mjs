// llama.cpp's speed on a GGUF, measured the way `doppler bench` measures
// ours (engine/runtime/bench.go), for docs/PERFORMANCE.md:
//
//   node build/device/llamacpp-bench.mjs --model M.gguf [--prompt-tokens 512]
//        [--gen-tokens 128] [--gpu vulkan|cuda|cpu] [--threads N] [--reps 1]
//        [--allow-cpu-fallback]
//
// Same prompt ids ((i*7919+13) mod vocab), a warm-up run first (llama.cpp
// compiles its GPU pipelines on first use: a cold 512-token prefill took 14 s
// on an H200) and a second of full runs (the GPU's clocks up, as doppler
// bench does), then a timed greedy run: prefill tok/s = prompt tokens / the
// best of three times to the first generated token (the timed run's and two
// more), decode tok/s = (generated - 1) / time from the first to the last
// generated token. With --reps > 1 the fastest run counts for each figure. End-of-generation tokens do not stop the run (random
// weights may well produce one). Prints one JSON object. A GPU build that
// finds no GPU fails (exit 1) unless --allow-cpu-fallback (local checks).
//
// node-llama-cpp comes from $LLAMACPP_NODE_MODULES (a node_modules folder),
// else build/oracle/node_modules; prebuilt binaries only, never a build or a
// download.
import { performance } from "node:perf_hooks";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    model: { type: "string" },
    "prompt-tokens": { type: "string", default: "512" },
    "gen-tokens": { type: "string", default: "128" },
    gpu: { type: "string", default: "vulkan" },
    threads: { type: "string", default: "4" },
    reps: { type: "string", default: "1" },
    "allow-cpu-fallback": { type: "boolean", default: false },
  },
});
const promptTokens = Number(opt["prompt-tokens"]);
const genTokens = Number(opt["gen-tokens"]);
const threads = Number(opt.threads);
const reps = Number(opt.reps);
if (!opt.model || !(promptTokens >= 1) || !(genTokens >= 2) || !(threads >= 1) || !(reps >= 1) ||
    !["vulkan", "cuda", "cpu"].includes(opt.gpu)) {
  console.error("usage: llamacpp-bench.mjs --model M.gguf [--prompt-tokens N≥1] [--gen-tokens N≥2] [--gpu vulkan|cuda|cpu] [--threads N] [--reps N] [--allow-cpu-fallback]");
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const modules = resolve(process.env.LLAMACPP_NODE_MODULES ?? join(here, "..", "oracle", "node_modules"));
const { getLlama, LlamaLogLevel, readGgufFileInfo } = await import(
  pathToFileURL(join(modules, "node-llama-cpp", "dist", "index.js")).href);

const report = { engine: "llama.cpp", backend: opt.gpu, file: opt.model, prompt_tokens: promptTokens, gen_tokens: genTokens, threads };
let t0 = performance.now();
const llama = await getLlama({
  gpu: opt.gpu === "cpu" ? false : opt.gpu,
  build: "never", skipDownload: true, usePrebuiltBinaries: true, progressLogs: false,
  logLevel: LlamaLogLevel.error,
});
if (opt.gpu !== "cpu" && llama.gpu !== opt.gpu) throw new Error(`asked for ${opt.gpu}, llama.cpp runs on ${llama.gpu}`);
report.llama_cpp = llama.llamaCppRelease?.release ?? "?";
report.device = opt.gpu === "cpu" ? "cpu" : (await llama.getGpuDeviceNames()).join(", ");
report.init_ms = round(performance.now() - t0);

// The vocabulary size: the token embedding's second ggml dimension.
const info = await readGgufFileInfo(opt.model, { readTensorInfo: true });
const embd = info.fullTensorInfo?.find((t) => t.name === "token_embd.weight") ?? info.tensorInfo?.find((t) => t.name === "token_embd.weight");
if (!embd) throw new Error(`${opt.model}: no token_embd.weight tensor`);
const vocab = Number(embd.dimensions[1]);
const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919 + 13) % vocab);

t0 = performance.now(); // load_ms: model and context, as doppler's load
const model = await llama.loadModel({ modelPath: opt.model, gpuLayers: opt.gpu === "cpu" ? 0 : "max" });
const context = await model.createContext({
  contextSize: promptTokens + genTokens + 16, batchSize: promptTokens, sequences: 1, threads,
});
report.load_ms = round(performance.now() - t0);
report.gpu_layers = model.gpuLayers;
// A GPU build runs on the CPU when it finds no usable GPU (llama.cpp's Vulkan
// backend skips CPU devices such as lavapipe): never report that as GPU speed.
if (opt.gpu !== "cpu" && (model.gpuLayers === 0 || !report.device)) {
  if (!opt["allow-cpu-fallback"]) {
    console.error(`llama.cpp's ${opt.gpu} build found no GPU to offload to (device list: "${report.device}", ${model.gpuLayers} layers offloaded)`);
    process.exit(1);
  }
  report.backend = `${opt.gpu} (no GPU: ran on the CPU)`;
}
if (opt.gpu !== "cpu") report.gpu_bytes = (await llama.getVramState()).used;
const seq = context.getSequence();

// run generates n tokens after the prompt and returns the token times.
async function run(n) {
  const start = performance.now();
  const times = [];
  for await (const _ of seq.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    times.push(performance.now());
    if (times.length >= n) break;
  }
  await seq.clearHistory();
  return { start, times };
}

await run(3); // warm-up: pipelines, allocations
// Then the GPU busy for a second of whole runs, as doppler bench does
// (engine/runtime/bench_js.go's benchWarmup): an idle GPU lowers its clocks.
for (let i = 0, w0 = performance.now(); i < 20 && performance.now() - w0 < 1000; i++) await run(genTokens);
let best = { prefill: 0, decode: 0, ttft: Infinity };
for (let r = 0; r < reps; r++) {
  const { start, times } = await run(genTokens);
  const ttft = times[0] - start;
  const decodeMs = times.at(-1) - times[0];
  best = {
    ttft: Math.min(best.ttft, ttft),
    prefill: Math.max(best.prefill, promptTokens / (ttft / 1e3)),
    decode: Math.max(best.decode, times.length > 1 && decodeMs > 0 ? (times.length - 1) / (decodeMs / 1e3) : 0),
  };
  report.generated = times.length;
}
// Prefill as doppler bench takes it: the best of three (the timed run's and
// two more, prompt only), since one prefill of tens of milliseconds shows any
// pause of the host (round q: llama.cpp's single 512-token prefill of qwen3
// q4_k_m read 27,076 tok/s in one run and 16,870 in the next).
for (let i = 0; i < 2; i++) {
  const { start, times } = await run(1);
  const ttft = times[0] - start;
  best.ttft = Math.min(best.ttft, ttft);
  best.prefill = Math.max(best.prefill, promptTokens / (ttft / 1e3));
}
report.prefill_tok_s = round(best.prefill);
report.decode_tok_s = round(best.decode);
report.ttft_ms = round(best.ttft);

await context.dispose();
await model.dispose();
await llama.dispose();
console.log(JSON.stringify(report));

function round(x) { return Math.round(x * 1000) / 1000; }
