#!/usr/bin/env bash
# make oracle: synthesize every architecture × dtype with the Go CLI, run
# llama.cpp teacher-forced over a fixed 64-token sequence (logits.mjs), and
# compare the goldens with the committed ones in engine/arch/testdata/oracle.
# Any difference (a new GGUF hash, another top-10) fails; UPDATE=1 rewrites
# the committed goldens instead. The Go tests (go test ./engine/arch) compare
# our CPU reference with the goldens without needing Node.
set -euo pipefail
cd "$(dirname "$0")/../.."
gold=engine/arch/testdata/oracle
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -d build/oracle/node_modules/node-llama-cpp ]; then
  (cd build/oracle && npm ci --no-audit --no-fund)
fi
go build -o "$tmp/doppler" ./engine/cmd/doppler

archs="llama gemma gemma2 gemma3 qwen3 mixtral qwen3moe"
dtypes="f32 f16 q8_0 q4_k q6_k q4_k_m"
seed=1
# 64 token ids spread over the tiny shape's 4096-token vocabulary, away from
# the low special ids: t_i = 256 + (i*2039 + 17) mod 3800.
tokens=$(seq 0 63 | awk '{printf "%s%d", (NR>1?",":""), 256 + ($1*2039 + 17) % 3800}')

jobs="["
for a in $archs; do
  for d in $dtypes; do
    f="$tmp/$a-$d.gguf"
    "$tmp/doppler" synth -o "$f" --arch "$a" --shape tiny --dtype "$d" --seed "$seed" --json >/dev/null
    jobs+="{\"model\":\"$f\",\"out\":\"$tmp/$a-$d.json\",\"tokens\":[$tokens],\"meta\":{\"arch\":\"$a\",\"dtype\":\"$d\",\"shape\":\"tiny\",\"seed\":$seed}},"
  done
done
# stories260K (a real model): the prompt "Once upon a time" and llama.cpp's 32 greedy tokens.
stories="${DOPPLER_TEST_MODELS:-../shared/models}/stories260K.gguf"
jobs+="{\"model\":\"$stories\",\"out\":\"$tmp/stories260K.json\",\"tokens\":[1,403,407,261,378,432,383,286,261,376,298,315,421,395,317,426,338,401,396,267,337,410,408,419,292,411,322,265,282,295,433,426,385,328,432,358,394],\"meta\":{\"arch\":\"llama\",\"dtype\":\"f32\"}}]"
echo "$jobs" >"$tmp/jobs.json"
node build/oracle/logits.mjs "$tmp/jobs.json"

status=0
mkdir -p "$gold"
for f in "$tmp"/*.json; do
  name=$(basename "$f")
  [ "$name" = jobs.json ] && continue
  if [ "${UPDATE:-}" = 1 ]; then
    cp "$f" "$gold/$name"
  elif ! cmp -s "$f" "$gold/$name"; then
    echo "oracle: $name differs from the committed golden:" >&2
    diff "$gold/$name" "$f" | head -20 >&2 || true
    status=1
  fi
done
if [ "${UPDATE:-}" != 1 ]; then
  for g in "$gold"/*.json; do
    [ -e "$tmp/$(basename "$g")" ] || { echo "oracle: $g is no longer produced" >&2; status=1; }
  done
fi
if [ "${UPDATE:-}" = 1 ]; then echo "oracle: goldens written to $gold"; elif [ $status = 0 ]; then echo "oracle: all goldens match llama.cpp"; fi
exit $status
