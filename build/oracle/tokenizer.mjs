// Regenerates the tokenizer goldens (engine/tokenizer/testdata/golden-*.json.gz)
// from two independent references and fails on any disagreement:
//   - the HF tokenizer in JS (@lenml/tokenizers) reading the committed tokenizer.json,
//   - llama.cpp (node-llama-cpp, CPU, vocabOnly) reading a GGUF written by our
//     gguf writer from tokenizer.HFToMetadata's output (see tokenizer.sh).
// Usage: node tokenizer.mjs GGUF_DIR   (run by tokenizer.sh, from `make oracle`)
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const here = path.dirname(fileURLToPath(import.meta.url));
const testdata = path.join(here, "..", "..", "engine", "tokenizer", "testdata");
const ggufDir = process.argv[2];
if (!ggufDir) {
  console.error("usage: node tokenizer.mjs GGUF_DIR");
  process.exit(2);
}

const gunzipJSON = (p) => JSON.parse(zlib.gunzipSync(fs.readFileSync(p)).toString("utf8"));
const corpus = JSON.parse(fs.readFileSync(path.join(testdata, "corpus.json"), "utf8"));

// Known, explained divergences between the references. Anything else fails.
// - nfc: the Qwen tokenizer.json normalizes input to NFC; llama.cpp does not
//   normalize, so text that is not in NFC tokenizes differently.
// - llamacpp-eog-control: llama.cpp marks vocabulary tokens whose text is in
//   its end-of-generation list ("</s>" in Qwen's vocabulary) as control tokens,
//   so with special-token parsing it emits them whole where HF runs BPE; the
//   difference is only in special-token parsing (llama.cpp without parsing
//   agrees with HF).
const vocabs = [
  { name: "gemma3", nfc: false },
  { name: "gemma2", nfc: false },
  { name: "qwen3", nfc: true },
];

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
let failed = false;
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

for (const v of vocabs) {
  const dir = path.join(testdata, v.name);
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: gunzipJSON(path.join(dir, "tokenizer.json.gz")),
    tokenizerConfig: gunzipJSON(path.join(dir, "tokenizer_config.json.gz")),
  });
  const model = await llama.loadModel({ modelPath: path.join(ggufDir, v.name + ".gguf"), vocabOnly: true });

  const hf = [], special = [], plain = [], divergent = [];
  corpus.forEach((text, i) => {
    const h = Array.from(tok.encode(text, { add_special_tokens: false }));
    const s = Array.from(model.tokenize(text, true)).map(Number);
    const p = Array.from(model.tokenize(text, false)).map(Number);
    hf.push(h);
    special.push(s);
    plain.push(p);
    if (!same(h, s)) {
      if (v.nfc && text.normalize("NFC") !== text) {
        divergent.push({ index: i, reason: "nfc" });
        return;
      }
      if (text.includes("</s>") && same(h, p)) {
        divergent.push({ index: i, reason: "llamacpp-eog-control" });
        return;
      }
      failed = true;
      console.error(`${v.name} #${i} ${JSON.stringify(text)}: HF ${JSON.stringify(h)} llama.cpp ${JSON.stringify(s)}`);
    }
  });
  // Decoding: the HF decoder must give the text back (both references agree on ids).
  const roundTrip = corpus.map((text, i) => (hf[i].length ? tok.decode(hf[i], { skip_special_tokens: false }) : "") === (v.nfc ? text.normalize("NFC") : text));
  await model.dispose();

  const golden = { vocab: v.name, corpus_size: corpus.length, hf, llamacpp_special: special, llamacpp_plain: plain, divergent, hf_round_trip: roundTrip };
  const file = path.join(testdata, `golden-${v.name}.json.gz`);
  let old = null;
  if (fs.existsSync(file)) old = JSON.stringify(gunzipJSON(file));
  const now = JSON.stringify(golden);
  fs.writeFileSync(file, zlib.gzipSync(now, { level: 9 }));
  const agree = hf.filter((h, i) => same(h, special[i])).length;
  console.log(`${v.name}: ${corpus.length} strings, references agree on ${agree}, explained divergences ${divergent.length}, HF decode round-trips ${roundTrip.filter(Boolean).length}`);
  if (old !== null && old !== now) {
    failed = true;
    console.error(`${v.name}: regenerated golden differs from the committed one (${file}); inspect with git diff`);
  }
}
await llama.dispose();
process.exit(failed ? 1 : 0);
