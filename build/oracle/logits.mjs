// Teacher-forced llama.cpp logits for the oracle goldens (run by logits.sh).
// Usage: node logits.mjs JOBS.json
// JOBS.json: [{"model": "x.gguf", "out": "x.json", "tokens": [...], "meta": {...}}]
// For each job, llama.cpp (node-llama-cpp, prebuilt CPU build) evaluates the
// tokens in one batch and we keep, at every position, the 10 most likely next
// tokens with ln p (p = softmax of the raw logits: temperature 0 leaves them
// untouched). Settings are chosen to be as close to f32 math as llama.cpp
// allows: one thread (deterministic), no flash attention (its CPU path
// rounds Q and the V accumulator to f16) and an F32 KV cache (the default
// F16 one rounds K and V). What stays: llama.cpp quantizes activations to
// the weight's vec-dot type (Q8_0 / Q8_K, F16 for F16 weights) in matmuls.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const TOP = 10;
const settings = { threads: 1, flashAttention: false, kvCache: "F32", batch: "one" };

const jobs = JSON.parse(readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
let failed = 0;
for (const job of jobs) {
  const sha256 = createHash("sha256").update(readFileSync(job.model)).digest("hex");
  const golden = { model: basename(job.model), sha256, ...job.meta, llama_cpp: llama.llamaCppRelease?.release ?? "?", settings };
  let model, context;
  try {
    model = await llama.loadModel({ modelPath: job.model, gpuLayers: 0 });
    const n = job.tokens.length;
    context = await model.createContext({
      contextSize: Math.max(n, 64), batchSize: Math.max(n, 64), sequences: 1,
      threads: settings.threads, flashAttention: settings.flashAttention,
      experimentalKvCacheKeyType: settings.kvCache, experimentalKvCacheValueType: settings.kvCache,
    });
    const seq = context.getSequence();
    const res = await seq.controlledEvaluate(job.tokens.map((t) => [t, { generateNext: { probabilities: true } }]));
    golden.tokens = job.tokens;
    golden.ids = [];
    golden.logprobs = [];
    for (const r of res) {
      const top = [...r.next.probabilities.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, TOP);
      golden.ids.push(top.map(([id]) => id));
      golden.logprobs.push(top.map(([, p]) => Math.round(Math.log(p) * 1e6) / 1e6));
    }
  } catch (e) {
    failed++;
    golden.error = String(e?.message ?? e);
    console.error(`${job.model}: llama.cpp failed: ${golden.error}`);
  } finally {
    await context?.dispose();
    await model?.dispose();
  }
  writeFileSync(job.out, compact(golden));
}
await llama.dispose();
process.exit(failed ? 1 : 0);

// compact writes one line per position so diffs of goldens stay readable.
function compact(g) {
  const { ids, logprobs, ...head } = g;
  const lines = [JSON.stringify(head).slice(0, -1)];
  if (ids) {
    lines[0] += `,"ids":[`;
    lines.push(ids.map((r) => JSON.stringify(r)).join(",\n") + "],");
    lines.push(`"logprobs":[` + logprobs.map((r) => JSON.stringify(r)).join(",\n") + "]}");
  } else lines[0] += "}";
  return lines.join("\n") + "\n";
}
