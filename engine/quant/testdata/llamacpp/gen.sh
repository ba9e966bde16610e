#!/bin/sh
# Regenerates the golden files from llama.cpp's libggml-base.so, as shipped in
# the npm package @node-llama-cpp/linux-x64 (3.21.1 was used: its llama.cpp
# build is recorded in bins/linux-x64/_nlcBuildMetadata.json).
# Usage: gen.sh DIR_WITH_libggml-base.so
set -eu
lib=${1:?usage: gen.sh DIR_WITH_libggml-base.so}
cd "$(dirname "$0")"
tmp=$(mktemp -d)
cc -O1 -o "$tmp/gen" gen.c -L"$lib" -l:libggml-base.so -Wl,-rpath,"$lib" -lm
"$tmp/gen"
# Q4_K_M type choices of llama_model_quantize (libllama) for synthetic models.
cc -O1 -o "$tmp/genmix" genmix.c -L"$lib" -l:libllama.v0.4.0.so -l:libggml-base.so -l:libggml.v0.4.0.so -Wl,-rpath,"$lib"
TMPDIR="$tmp" "$tmp/genmix" 2>"$tmp/log" || { cat "$tmp/log"; exit 1; }
rm -r "$tmp"
