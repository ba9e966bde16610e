// Results of build/device/run.sh: one JSON object per line in results.jsonl,
// and the markdown table docs/PERFORMANCE.md takes its figures from.
//
//   node report.mjs record FILE KIND BASE_JSON STDOUT STDERR EXIT_CODE MS
//       appends {kind, ...BASE, ...last JSON line of STDOUT, seconds} and,
//       when the step failed, its error (tail of STDERR); prints a summary
//   node report.mjs skip FILE BASE_JSON REASON
//       appends a bench line that says why it did not run
//   node report.mjs table FILE
//       prints the markdown table of FILE
import { appendFileSync, readFileSync } from "node:fs";

const [cmd, file, ...args] = process.argv.slice(2);
if (cmd === "record") record(...args);
else if (cmd === "skip") {
  append({ kind: "bench", ...JSON.parse(args[0]), error: args[1] });
} else if (cmd === "table") process.stdout.write(table(load(file)));
else {
  console.error("usage: report.mjs record|skip|table FILE ...");
  process.exit(2);
}

function append(obj) {
  appendFileSync(file, JSON.stringify(obj) + "\n");
  console.log(`[result] ${summary(obj)}`);
}

function record(kind, base, stdoutFile, stderrFile, code, ms) {
  const obj = { kind, ...JSON.parse(base) };
  const out = readFileSync(stdoutFile, "utf8").trim().split("\n").reverse();
  for (const line of out) {
    try {
      const v = JSON.parse(line);
      if (v && typeof v === "object" && !Array.isArray(v)) {
        Object.assign(obj, v);
        break;
      }
    } catch { /* not the JSON line */ }
  }
  obj.seconds = Math.round(Number(ms)) / 1000;
  const exit = Number(code);
  if (exit !== 0) {
    const err = readFileSync(stderrFile, "utf8").split("\n")
      .filter((l) => l.trim() && !l.includes("artificially reduced")).join("\n").slice(-600);
    obj.error = (exit === 124 || exit === 137 ? `timed out after ${obj.seconds} s` : `exit status ${exit}`) + (err ? `: ${err}` : "");
  }
  append(obj);
}

function summary(r) {
  const what = [r.kind, r.engine, r.backend, r.model, r.dtype].filter(Boolean).join(" ");
  if (r.error) return `${what}: ERROR ${r.error}`;
  if (r.kind === "roofline") return `${what}: ${fmt(r.gb_s)} GB/s (${r.timing}), checksum ${r.checksum_ok ? "ok" : "WRONG"}`;
  if (r.kind === "gpuinfo") return `${what}: ${r.adapter?.description || r.adapter?.vendor} features ${r.features?.join(",")}`;
  return `${what}: prefill ${fmt(r.prefill_tok_s)} tok/s, decode ${fmt(r.decode_tok_s)} tok/s, ttft ${fmt(r.ttft_ms)} ms, load ${fmt(r.load_ms)} ms`;
}

function load(f) {
  return readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

function fmt(x, digits = 1) {
  if (x == null || Number.isNaN(x)) return "–";
  return Number(x).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function table(rows) {
  const lines = [];
  const info = rows.find((r) => r.kind === "gpuinfo" && !r.error);
  const roof = rows.find((r) => r.kind === "roofline" && !r.error);
  if (info) {
    const a = info.adapter ?? {};
    lines.push(`WebGPU adapter: ${a.description || "?"} (${a.vendor || "?"} ${a.architecture || ""}); ` +
      `features: ${(info.features ?? []).join(", ")}`, "");
  }
  if (roof) {
    lines.push(`Read roofline (doppler roofline): **${fmt(roof.gb_s)} GB/s** (${roof.timing} timing; wall clock ${fmt(roof.wall_gb_s)} GB/s; ` +
      `${(roof.buffer_bytes / 2 ** 20).toFixed(0)} MiB × ${roof.iterations} passes in ${roof.bindings} binding(s), ` +
      `best at ${roof.workgroups} workgroups of 256 (${(roof.sweep ?? []).map((p) => `${p.workgroups}: ${fmt(p.timestamp_gb_s || p.wall_gb_s)}`).join(", ")}), ` +
      `checksum ${roof.checksum_ok ? "ok" : "WRONG"})`, "");
  }
  const benches = rows.filter((r) => r.kind === "bench");
  const models = [...new Map(benches.map((r) => [`${r.model}:${r.dtype}`, r])).keys()];
  const llamaBackends = [...new Set(benches.filter((r) => r.engine === "llama.cpp").map((r) => r.backend))];
  const first = benches.find((r) => r.prompt_tokens);
  if (first) lines.push(`Prompt ${first.prompt_tokens} tokens, ${first.gen_tokens} generated (greedy), after a warm-up (a second of full runs: the GPU's clocks up).`, "");
  const head = ["model", "dtype", "file MiB", "doppler prefill tok/s", "doppler decode tok/s", "doppler decode GB/s", "dispatches / token"];
  for (const b of llamaBackends) {
    head.push(`llama.cpp ${b} prefill tok/s`, `llama.cpp ${b} decode tok/s`, `prefill doppler/llama.cpp ${b}`, `decode doppler/llama.cpp ${b}`);
  }
  lines.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
  const errors = [];
  for (const key of models) {
    const [model, dtype] = key.split(":");
    const of = (engine, backend) => benches.find((r) => r.model === model && r.dtype === dtype && r.engine === engine && (!backend || r.backend === backend));
    const skipped = benches.find((r) => r.model === model && r.dtype === dtype && !r.engine);
    const d = of("doppler");
    const size = (d ?? of("llama.cpp"))?.file_bytes;
    const cell = (r, k) => (r && !r.error ? fmt(r[k]) : r ? "error" : "–");
    let gbs = "–";
    if (d && !d.error && d.weight_bytes_per_token) {
      gbs = fmt((d.weight_bytes_per_token * d.decode_tok_s) / 1e9);
      if (roof) gbs += ` (${Math.round((100 * d.weight_bytes_per_token * d.decode_tok_s) / 1e9 / roof.gb_s)}%)`;
    }
    const row = [model, dtype, size ? (size / 2 ** 20).toFixed(0) : "–", cell(d, "prefill_tok_s"), cell(d, "decode_tok_s"), gbs,
      cell(d, "dispatches_per_token")];
    for (const b of llamaBackends) {
      const l = of("llama.cpp", b);
      const ratio = (k) => (d && l && !d.error && !l.error && l[k] ? `${(d[k] / l[k]).toFixed(2)}×` : "–");
      row.push(cell(l, "prefill_tok_s"), cell(l, "decode_tok_s"), ratio("prefill_tok_s"), ratio("decode_tok_s"));
    }
    lines.push(`| ${row.join(" | ")} |`);
    for (const r of [d, ...llamaBackends.map((b) => of("llama.cpp", b)), skipped]) {
      if (r?.error) errors.push(`- ${[model, dtype, r.engine, r.backend].filter(Boolean).join(" ")}: ${r.error.replace(/\s+/g, " ").slice(0, 300)}`);
    }
  }
  // bench --profile runs: where a decode step's time goes.
  const profiled = rows.filter((r) => r.kind === "bench" && r.profile && !r.error);
  if (profiled.length) {
    lines.push("", "Decode profile (`doppler bench --profile`: GPU timestamps of the timed decode's replays; then a second",
      "decode with every launch in its own timed pass, which adds a little per launch):", "",
      "| model | dtype | decode tok/s | GPU ms / token | JS encode+submit ms / token | of it submit | launches / token | top launches by GPU time (launches, ms / token) |",
      "|---|---|---|---|---|---|---|---|");
    for (const r of profiled) {
      const p = r.profile;
      // Times are per replay of `steps` decode steps (older results lack
      // the field: their replays count tells).
      const steps = p.decode.steps ?? Math.max(1, Math.round((r.gen_tokens - 1) / Math.max(1, p.decode.replays - 1)));
      const opSteps = p.ops?.steps ?? steps;
      const top = (p.ops?.ops ?? []).slice(0, 5)
        .map((o) => `${o.op} ${o.kernel.replace(/\+subgroups/, "")} ×${fmt(o.dispatches / opSteps)} ${(o.ms / opSteps).toFixed(3)}`).join("; ");
      lines.push(`| ${r.model} | ${r.dtype} | ${fmt(r.decode_tok_s)} | ${(p.decode.gpu_ms / steps).toFixed(2)} | ${(p.decode.encode_ms / steps).toFixed(2)} | ${p.decode.submit_ms === undefined ? "–" : (p.decode.submit_ms / steps).toFixed(2)} | ${fmt(r.dispatches_per_token)} | ${top} |`);
    }
  }
  const devices = [...new Set(benches.filter((r) => r.device && !r.error).map((r) => `${r.engine} ${r.backend}: ${r.device}`))];
  if (devices.length) lines.push("", "Devices: " + devices.join("; "));
  if (errors.length) lines.push("", "Errors:", ...errors);
  return lines.join("\n") + "\n";
}
