#!/usr/bin/env bash
# The performance run for docs/PERFORMANCE.md: runs ON the GPU machine, from
# the repository root, over what build/device/pack.sh put in .device and .gl
# (no network, Go or apt needed there). In one run:
#
#   1. unpacks node, doppler (native + wasm), Dawn and node-llama-cpp;
#   2. synthesizes the models (real shapes, random weights) in the
#      background, several at once;
#   3. gpuinfo, then the WebGPU read roofline (doppler roofline);
#   4. for each model, as soon as its file is written, in priority order
#      (every shape at q4_k_m, then q8_0, then f16): doppler bench
#      (--backend webgpu) and llama.cpp's bench (node-llama-cpp, Vulkan; CUDA
#      too when packed) on the same file.
#
# Every result is appended to $OUT/results.jsonl as it comes and
# $OUT/results.md (the table) is rewritten after each model, so a run cut
# short still returns what it measured. Every step is time-boxed and the run
# ends within DEVICE_BUDGET_S seconds (default 540) of its start.
#
# DEVICE_LOCAL=1 runs the same pipeline here, without NVIDIA: WebGPU on
# lavapipe (build/wasm-exec's choice), tiny models, short prompts, llama.cpp
# on the CPU from build/oracle plus the packed Vulkan build on lavapipe.
#
# Environment (all optional):
#   OUT              where results go (default /tmp/doppler-device-out; the device sets it)
#   DEVICE_BUDGET_S  seconds the whole run may take (default 540)
#   DEVICE_MODELS    "SHAPE:DTYPE ..." in priority order; SHAPE tiny-ARCH is
#                    the tiny shape of ARCH
#   PROMPT_TOKENS, GEN_TOKENS   default 512 / 128 (local: 64 / 16)
#   LLAMA_THREADS    llama.cpp threads (default 4; local 1)
#   SYNTH_JOBS       syntheses at once (default 10; local 2)
#   ROOFLINE_ARGS    extra flags for doppler roofline
#   DEVICE_VARIANTS  "FLAGS|FLAGS|..." extra doppler bench runs per model with
#                    these flags (e.g. "--serial|--profile"), recorded as engine
#                    "doppler-variant" with the flags (results.jsonl only)
#   DEVICE_ALT_WASM  xz-compressed doppler.wasm files, space-separated (e.g.
#                    a build of the previous commit, packed beside .device):
#                    each model is benched with each too, as engine
#                    "doppler-alt" (then "doppler-alt2", ...), for a
#                    before/after on the same card in one run
#   DEVICE_ALT_FLAGS doppler bench flags for the DEVICE_ALT_WASM runs (e.g.
#                    --profile, for GPU ms per step of each build)
#   DEVICE_LLAMA=0   skip llama.cpp (an A/B run of our builds only)
#   DEVICE_WARM_EACH=1  a discarded warm-up bench before every model, not
#                    only the first (round o: each file's first bench
#                    process decoded gemma3-270m slowest; ~7 s a model)
#   DEVICE_TESTS     xz-compressed go test binaries for js/wasm (e.g. built
#                    with GOOS=js GOARCH=wasm go test -c ./engine/gpuops/),
#                    space-separated: each runs under Node + Dawn after the
#                    roofline with DOPPLER_GPUOPS_BENCH=1 and
#                    -test.run "$DEVICE_TEST_RUN" (default TestBench), its
#                    output in $OUT/tests.log
#   DEVICE_CLOCKS=1  samples the GPU's clocks, power state, power draw and
#                    utilization every 100 ms (nvidia-smi, read only) into
#                    $OUT/clocks.csv, from before the first bench to the end;
#                    run.log gives each bench's start in seconds since the
#                    run's start (the first line of clocks.csv holds it)
#   DEVICE_PIN=0     no CPU pinning; by default the benches (ours and
#                    llama.cpp's) run on the first whole cores making up
#                    DEVICE_BENCH_CPUS (default 6) of the machine's CPUs and
#                    the syntheses and the clock sampler on the others
#                    (taskset; lscpu's core ids keep SMT siblings together):
#                    in round q's runs the host side of a decode (Node
#                    encoding through Dawn) took 0.50 to 3.4 ms per token for
#                    the same file from one process to the next, while the
#                    syntheses of the larger models ran beside the benches
#   DEVICE_PROBES    Node scripts (space-separated, e.g.
#                    build/device/subgroup-matrix-probe.js) run after the
#                    roofline, their output in $OUT/probes.log
set -uo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$ROOT" || exit 1
START=$(date +%s)
LOCAL="${DEVICE_LOCAL:-0}"
BUDGET="${DEVICE_BUDGET_S:-540}"
OUT="${OUT:-/tmp/doppler-device-out}"
WORK="${DEVICE_WORK:-/tmp/doppler-device}"
MODELS_DIR="$WORK/models"
RESULTS="$OUT/results.jsonl"
mkdir -p "$OUT" "$WORK" "$MODELS_DIR"
: >"$RESULTS"
exec > >(tee -a "$OUT/run.log") 2>&1

if [ "$LOCAL" = 1 ]; then
	PROMPT_TOKENS="${PROMPT_TOKENS:-64}" GEN_TOKENS="${GEN_TOKENS:-16}"
	LLAMA_THREADS="${LLAMA_THREADS:-1}" SYNTH_JOBS="${SYNTH_JOBS:-2}"
	DEVICE_MODELS="${DEVICE_MODELS:-tiny-gemma3:q4_k_m tiny-qwen3:q8_0 tiny-gemma2:f16}"
	ROOFLINE_ARGS="${ROOFLINE_ARGS:---size 16777216 --iters 5}"
else
	PROMPT_TOKENS="${PROMPT_TOKENS:-512}" GEN_TOKENS="${GEN_TOKENS:-128}"
	LLAMA_THREADS="${LLAMA_THREADS:-4}" SYNTH_JOBS="${SYNTH_JOBS:-10}"
	DEVICE_MODELS="${DEVICE_MODELS:-gemma3-270m:q4_k_m qwen3-0.6b:q4_k_m gemma3-1b:q4_k_m gemma2-2b:q4_k_m
		gemma3-270m:q8_0 qwen3-0.6b:q8_0 gemma3-1b:q8_0 gemma2-2b:q8_0
		gemma3-270m:f16 qwen3-0.6b:f16 gemma3-1b:f16 gemma2-2b:f16}"
	ROOFLINE_ARGS="${ROOFLINE_ARGS:-}"
fi

elapsed() { echo $(($(date +%s) - START)); }
left() { echo $((BUDGET - $(elapsed))); }
log() { echo "[run.sh $(elapsed)s] $*"; }
# box SECONDS CMD...: runs CMD for at most SECONDS (and no later than the
# budget allows, keeping 5 s to write results).
box() {
	local t=$1
	shift
	t=$((t < $(left) - 5 ? t : $(left) - 5))
	if [ "$t" -lt 1 ]; then
		echo "out of time budget" >&2
		return 124
	fi
	timeout -k 5 "$t" "$@"
}

# unxz FILE: decompress to stdout (xz, else Python's lzma).
unxz() {
	if command -v xz >/dev/null; then
		xz -dc "$1"
	else
		python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer, 1<<20)' "$1"
	fi
}

# ---------------------------------------------------------------- unpack
log "unpacking .device into $WORK (local=$LOCAL)"
# llama.cpp is needed only where it runs (an A/B run may leave it behind to
# fit more builds in the carry).
NEED=(node.xz doppler.tar.xz webgpu.tar.xz)
[ "${DEVICE_LLAMA:-1}" = 0 ] || NEED+=(llamacpp.tar.xz)
for f in "${NEED[@]}"; do
	[ -f ".device/$f" ] || { log "missing .device/$f: run build/device/pack.sh here first, and carry .device"; exit 1; }
done
mkdir -p "$WORK/bin" "$WORK/doppler" "$WORK/llamacpp" build/node_modules/webgpu
unxz .device/node.xz >"$WORK/bin/node" && chmod +x "$WORK/bin/node"
unxz .device/doppler.tar.xz | tar -C "$WORK/doppler" -xf -
# host.js loads Dawn from build/node_modules/webgpu (ignored, so free here).
unxz .device/webgpu.tar.xz | tar -C build/node_modules/webgpu -xf -
[ -f .device/llamacpp.tar.xz ] && unxz .device/llamacpp.tar.xz | tar -C "$WORK/llamacpp" -xf -
ALT_WASMS=()
i=1
for f in ${DEVICE_ALT_WASM:-}; do
	ALT_WASMS+=("$WORK/doppler/alt$i.wasm")
	unxz "$f" >"$WORK/doppler/alt$i.wasm"
	i=$((i + 1))
done
export PATH="$WORK/bin:$PATH"
export DOPPLER_ROOT="$ROOT" DOPPLER_WASM="$WORK/doppler/doppler.wasm" DOPPLER_WASM_EXEC="$WORK/doppler/wasm_exec.js"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
DOPPLER="$WORK/doppler/doppler"
REPORT=(node "$ROOT/build/device/report.mjs")
# Dawn rounds timestamps to 100 µs by default; the roofline wants them exact.
export DOPPLER_DAWN_FLAGS="${DOPPLER_DAWN_FLAGS:-disable-dawn-features=timestamp_quantization}"

if [ "$LOCAL" = 1 ]; then
	# lavapipe (build/setup.sh) for llama.cpp's Vulkan build too; its loader
	# and libdrm are unpacked beside it.
	if [ -f .cache/mesa/lvp_icd.json ]; then
		export VK_ICD_FILENAMES="$ROOT/.cache/mesa/lvp_icd.json"
		export LD_LIBRARY_PATH="$ROOT/.cache/mesa/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	fi
else
	# The image has no Vulkan loader: the device README's debs (carried .gl).
	if ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
		for f in .gl/*.deb; do dpkg -x "$f" /; done
		ldconfig
	fi
	icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
	[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
	# The CUDA build of llama.cpp (when packed) needs CUDA 13's runtime and
	# cuBLAS: the image's Python packages and toolkit hold them.
	if [ -d "$WORK/llamacpp/node_modules/@node-llama-cpp/linux-x64-cuda" ]; then
		export LD_LIBRARY_PATH
		for lib in libcudart.so.13 libcublas.so.13; do
			d=$(timeout 30 find /opt /usr/local /usr/lib -name "$lib" 2>/dev/null | head -1)
			[ -n "$d" ] && LD_LIBRARY_PATH="$(dirname "$d")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
		done
	fi
	nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader 2>&1 | sed 's/^/[nvidia-smi] /'
fi
log "node $(node --version), $(nproc) cores, disk free under $WORK: $(df -h "$WORK" | awk 'END{print $4}')"

# CPU sets: BENCH_CPUS for the benches, SYNTH_CPUS for the background work
# (DEVICE_PIN above). Whole cores (lscpu's CORE column) go to the benches
# until they hold DEVICE_BENCH_CPUS CPUs; empty sets mean no pinning.
BENCH_CPUS="" SYNTH_CPUS=""
if [ "${DEVICE_PIN:-1}" = 1 ] && [ "$LOCAL" != 1 ] && command -v taskset >/dev/null && command -v lscpu >/dev/null; then
	read -r BENCH_CPUS SYNTH_CPUS < <(lscpu -p=CPU,CORE | grep -v '^#' | sort -t, -k2,2n -k1,1n |
		awk -F, -v want="${DEVICE_BENCH_CPUS:-6}" '{
			if (!rest && n >= want && $2 != last) { rest = 1 }
			if (rest) { s = s (s == "" ? "" : ",") $1 } else { b = b (b == "" ? "" : ",") $1; n++ }
			last = $2
		} END { if (s != "") print b, s }')
	lscpu | grep -E '^(Model name|Socket|Core|Thread|NUMA node)' | sed 's/^/[lscpu] /'
	log "benches on CPUs ${BENCH_CPUS:-all}, syntheses and sampling on ${SYNTH_CPUS:-all}"
fi
# The prefixes that pin a command to either set (empty: not pinned).
BENCH_PIN=() SYNTH_PIN=()
[ -n "$BENCH_CPUS" ] && BENCH_PIN=(taskset -c "$BENCH_CPUS") && SYNTH_PIN=(taskset -c "$SYNTH_CPUS")

# llama.cpp builds to compare with: GPU ones packed in .device; locally the
# CPU build of build/oracle too, and the packed Vulkan build is only checked
# to load and run (llama.cpp's Vulkan backend skips lavapipe, a CPU device,
# and falls back to the CPU).
LLAMA_RUNS=() LLAMA_FLAGS=()
[ "$LOCAL" = 1 ] && LLAMA_FLAGS=(--allow-cpu-fallback)
[ -d "$WORK/llamacpp/node_modules/@node-llama-cpp/linux-x64-vulkan" ] && LLAMA_RUNS+=("vulkan:$WORK/llamacpp/node_modules")
[ -d "$WORK/llamacpp/node_modules/@node-llama-cpp/linux-x64-cuda" ] && LLAMA_RUNS+=("cuda:$WORK/llamacpp/node_modules")
[ "${DEVICE_LLAMA:-1}" = 0 ] && LLAMA_RUNS=()
if [ "$LOCAL" = 1 ] && [ -d build/oracle/node_modules/@node-llama-cpp/linux-x64 ]; then
	LLAMA_RUNS=("cpu:$ROOT/build/oracle/node_modules" "${LLAMA_RUNS[@]}")
fi

# ---------------------------------------------------------------- synth
# Each model is written under a temporary name and renamed when complete;
# a failure leaves NAME.failed. Niced, so the benchmarks keep their cores.
synth_one() { # SHAPE DTYPE
	local shape=$1 dtype=$2 name="$1-$2" args t0
	case "$shape" in
	tiny-*) args=(--arch "${shape#tiny-}" --shape tiny) ;;
	*) args=(--shape "$shape") ;;
	esac
	t0=$(date +%s)
	if box 600 nice -n 19 "$DOPPLER" synth "${args[@]}" --dtype "$dtype" -o "$MODELS_DIR/.$name.gguf" --json >"$MODELS_DIR/$name.synth.json" 2>"$MODELS_DIR/$name.synth.err"; then
		mv "$MODELS_DIR/.$name.gguf" "$MODELS_DIR/$name.gguf"
		echo "[synth] $name: $(($(date +%s) - t0)) s, $(stat -c %s "$MODELS_DIR/$name.gguf") bytes"
	else
		touch "$MODELS_DIR/$name.failed"
		echo "[synth] $name FAILED after $(($(date +%s) - t0)) s: $(tail -c 300 "$MODELS_DIR/$name.synth.err")"
	fi
}
export -f synth_one box left elapsed
export START BUDGET MODELS_DIR DOPPLER
log "synthesizing ${DEVICE_MODELS//[$'\n\t']/ } ($SYNTH_JOBS at once)"
rm -f "$MODELS_DIR"/*.failed
# In its own process group, so the end of the run can stop what is left.
# shellcheck disable=SC2086 # one word per model
printf '%s\n' $DEVICE_MODELS | tr ':' ' ' |
	setsid "${SYNTH_PIN[@]}" xargs -P "$SYNTH_JOBS" -L 1 bash -c 'synth_one "$@"' _ &
SYNTH_PID=$!
trap 'kill -- -"$SYNTH_PID" 2>/dev/null' EXIT

# ---------------------------------------------------------------- gpuinfo + roofline
# step KIND SECONDS BASE_JSON CMD...: runs CMD time-boxed and records its JSON
# stdout (or its error) as one line of results.jsonl.
step() {
	local kind=$1 secs=$2 base=$3 t0 code
	shift 3
	t0=$(date +%s%N)
	box "$secs" "${BENCH_PIN[@]}" "$@" >"$WORK/step.out" 2>"$WORK/step.err"
	code=$?
	tail -c 4000 "$WORK/step.err" | grep -v 'artificially reduced' | sed "s/^/[$kind] /"
	"${REPORT[@]}" record "$RESULTS" "$kind" "$base" "$WORK/step.out" "$WORK/step.err" "$code" \
		$((($(date +%s%N) - t0) / 1000000))
}

if [ "${DEVICE_CLOCKS:-0}" = 1 ] && command -v nvidia-smi >/dev/null; then
	echo "# run start $START (epoch s); then nvidia-smi's rows" >"$OUT/clocks.csv"
	"${SYNTH_PIN[@]}" nice -n 10 nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,pstate,power.draw,utilization.gpu,temperature.gpu \
		--format=csv,noheader -lms 100 >>"$OUT/clocks.csv" 2>&1 &
	CLOCKS_PID=$!
	trap 'kill -- -"$SYNTH_PID" 2>/dev/null; kill "$CLOCKS_PID" 2>/dev/null' EXIT
fi

step gpuinfo 60 '{}' "$DOPPLER" gpuinfo --json
# shellcheck disable=SC2086 # flags
step roofline 90 '{}' "$DOPPLER" roofline --json $ROOFLINE_ARGS

for f in ${DEVICE_TESTS:-}; do
	bin="$WORK/$(basename "$f" .xz)"
	unxz "$f" >"$bin"
	log "test binary $(basename "$bin")"
	DOPPLER_GPUOPS_BENCH=1 box 240 "${BENCH_PIN[@]}" "$ROOT/build/wasm-exec" "$bin" -test.v -test.run "${DEVICE_TEST_RUN:-TestBench}" >>"$OUT/tests.log" 2>&1
	log "test binary $(basename "$bin") exited $?"
done

for f in ${DEVICE_PROBES:-}; do
	log "probe $f"
	box 120 node "$f" >>"$OUT/probes.log" 2>&1
	log "probe $f exited $?"
done

# ---------------------------------------------------------------- benches
for spec in $DEVICE_MODELS; do
	shape=${spec%%:*} dtype=${spec#*:} name="${spec%%:*}-${spec#*:}"
	file="$MODELS_DIR/$name.gguf"
	if [ "$(left)" -lt 30 ]; then
		log "out of time: $name and later models skipped"
		"${REPORT[@]}" skip "$RESULTS" "{\"model\":\"$shape\",\"dtype\":\"$dtype\"}" "not run: out of time"
		continue
	fi
	while [ ! -f "$file" ] && [ ! -f "$MODELS_DIR/$name.failed" ] && [ "$(left)" -gt 30 ]; do sleep 1; done
	if [ ! -f "$file" ]; then
		log "$name: no model file (synthesis failed or out of time)"
		"${REPORT[@]}" skip "$RESULTS" "{\"model\":\"$shape\",\"dtype\":\"$dtype\"}" "synthesis failed or did not finish: $(tail -c 300 "$MODELS_DIR/$name.synth.err" 2>/dev/null)"
		continue
	fi
	base="{\"model\":\"$shape\",\"dtype\":\"$dtype\",\"file_bytes\":$(stat -c %s "$file"),\"prompt_tokens\":$PROMPT_TOKENS,\"gen_tokens\":$GEN_TOKENS"
	if [ -z "${WARMED:-}" ] || [ "${DEVICE_WARM_EACH:-0}" = 1 ]; then
		# The first bench of a fresh machine runs slow (clocks, driver
		# caches): one discarded bench first, full length (after a short
		# one, the first model's decode still ran ~14% slow in two runs).
		log "$name: warm-up bench (discarded)"
		box 120 "${BENCH_PIN[@]}" "$DOPPLER" bench --model "$file" --prompt-tokens "$PROMPT_TOKENS" --gen-tokens "$GEN_TOKENS" --backend webgpu >/dev/null 2>&1
		# Each other build too: in round n's A/Bs the first model's alt run
		# read 1.4–3× slow by its own GPU timestamps (prefill and decode)
		# where the main build's warm-up had run, and later models did not.
		for w in "${ALT_WASMS[@]}"; do
			log "$name: warm-up bench of $(basename "$w") (discarded)"
			DOPPLER_WASM="$w" box 120 "${BENCH_PIN[@]}" "$DOPPLER" bench --model "$file" --prompt-tokens "$PROMPT_TOKENS" --gen-tokens 16 --backend webgpu >/dev/null 2>&1
		done
		WARMED=1
	fi
	log "$name: doppler bench"
	step bench 180 "$base,\"engine\":\"doppler\",\"backend\":\"webgpu\"}" \
		"$DOPPLER" bench --model "$file" --prompt-tokens "$PROMPT_TOKENS" --gen-tokens "$GEN_TOKENS" --backend webgpu --json
	for i in "${!ALT_WASMS[@]}"; do
		alt=doppler-alt
		[ "$i" -gt 0 ] && alt="doppler-alt$((i + 1))"
		log "$name: doppler bench ($alt wasm)"
		# shellcheck disable=SC2086 # flags
		DOPPLER_WASM="${ALT_WASMS[$i]}" step bench 180 "$base,\"engine\":\"$alt\",\"backend\":\"webgpu\"}" \
			"$DOPPLER" bench --model "$file" --prompt-tokens "$PROMPT_TOKENS" --gen-tokens "$GEN_TOKENS" --backend webgpu --json ${DEVICE_ALT_FLAGS:-}
	done
	IFS='|' read -r -a variants <<<"${DEVICE_VARIANTS:-}"
	for v in "${variants[@]}"; do
		[ -n "${v// /}" ] || continue
		log "$name: doppler bench $v"
		# shellcheck disable=SC2086 # flags
		step bench 180 "$base,\"engine\":\"doppler-variant\",\"flags\":\"$v\",\"backend\":\"webgpu\"}" \
			"$DOPPLER" bench --model "$file" --prompt-tokens "$PROMPT_TOKENS" --gen-tokens "$GEN_TOKENS" --backend webgpu --json $v
	done
	for run in "${LLAMA_RUNS[@]}"; do
		gpu=${run%%:*}
		log "$name: llama.cpp ($gpu)"
		LLAMACPP_NODE_MODULES=${run#*:} step bench 120 "$base,\"engine\":\"llama.cpp\",\"backend\":\"$gpu\"}" \
			node build/device/llamacpp-bench.mjs --model "$file" --prompt-tokens "$PROMPT_TOKENS" \
			--gen-tokens "$GEN_TOKENS" --gpu "$gpu" --threads "$LLAMA_THREADS" "${LLAMA_FLAGS[@]}"
	done
	"${REPORT[@]}" table "$RESULTS" >"$OUT/results.md"
	rm -f "$file" # disk: the f16 files are large
done

"${REPORT[@]}" table "$RESULTS" >"$OUT/results.md"
cat "$OUT/results.md"
log "done in $(elapsed) s"
