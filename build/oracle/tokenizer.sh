#!/bin/sh
# Regenerates the tokenizer goldens with both references (HF tokenizer.json in
# JS, llama.cpp) and fails on any disagreement or change. Run by `make oracle`.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
[ -d build/oracle/node_modules ] || (cd build/oracle && npm ci --no-audit --no-fund)
go run ./engine/tokenizer/internal/oraclegguf -o "$tmp" gemma3 gemma2 qwen3
node build/oracle/tokenizer.mjs "$tmp"
