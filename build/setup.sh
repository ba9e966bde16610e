#!/usr/bin/env bash
# Installs everything the build and the tests need, on a fresh Debian 12
# machine that has Go. Idempotent: each step leaves a stamp under .cache/stamps
# keyed by its inputs, so a second run takes well under a second.
#
#   1. Chromium (apt) for the e2e tests.
#   2. Node packages from build/package-lock.json (npm ci): webgpu (Dawn).
#   3. Go modules pinned in go.sum (go mod download).
#   (oracle: Node packages of build/oracle, only when asked: setup.sh oracle)
#   4. Mesa 25 lavapipe from bookworm-backports, unpacked into .cache/mesa
#      (the system Mesa is left alone), with our own Vulkan ICD file.
#      If that fails, the host falls back to Chromium's SwiftShader.
#
# Usage: build/setup.sh [all|chromium|node|go|mesa|oracle]...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
STAMPS="$CACHE/stamps"
mkdir -p "$STAMPS"

log() { echo "setup: $*" >&2; }

# as_root runs a command as root (directly, or through sudo when present).
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		log "need root for: $*"
		return 1
	fi
}

# stamp_ok NAME KEY: true when step NAME already ran with the same KEY.
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { echo "$2" >"$STAMPS/$1"; }

CHROMIUM=/usr/lib/chromium/chromium

setup_chromium() {
	if [ -x "$CHROMIUM" ]; then return; fi
	log "installing Chromium from apt"
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
}

setup_node() {
	command -v npm >/dev/null || { log "npm not found: install Node.js 20 or newer"; exit 1; }
	local key
	key="$(sha256sum "$ROOT/build/package-lock.json" | cut -d' ' -f1)"
	if stamp_ok node "$key" && [ -f "$ROOT/build/node_modules/webgpu/package.json" ]; then return; fi
	log "npm ci in build/"
	(cd "$ROOT/build" && npm ci --no-audit --no-fund --loglevel=error)
	stamp_set node "$key"
}

# Node packages of the reference runtimes (build/oracle), for make oracle only.
setup_oracle() {
	[ -f "$ROOT/build/oracle/package-lock.json" ] || return 0
	local key
	key="$(sha256sum "$ROOT/build/oracle/package-lock.json" | cut -d' ' -f1)"
	if stamp_ok oracle "$key" && [ -d "$ROOT/build/oracle/node_modules" ]; then return; fi
	log "npm ci in build/oracle/"
	(cd "$ROOT/build/oracle" && npm ci --no-audit --no-fund --loglevel=error)
	stamp_set oracle "$key"
}

setup_go() {
	local key
	key="$(cat "$ROOT/go.mod" "$ROOT/go.sum" | sha256sum | cut -d' ' -f1)"
	if stamp_ok go "$key"; then return; fi
	log "go mod download"
	(cd "$ROOT" && go mod download)
	stamp_set go "$key"
}

# --- Mesa lavapipe -----------------------------------------------------------

MESA="$CACHE/mesa"
MESA_LIB="$MESA/root/usr/lib/x86_64-linux-gnu"
MESA_ICD="$MESA/lvp_icd.json"
BACKPORTS_LIST=doppler-bookworm-backports.sources
# Packages taken from backports (the rest of lavapipe's dependencies come from
# the machine, or from bookworm when missing there).
BACKPORTS_PKGS=(mesa-vulkan-drivers libdrm2 libdrm-amdgpu1)
# Always present on Debian. (libvulkan1, the Vulkan loader, is not skipped:
# Dawn dlopens libvulkan.so.1, so when the machine lacks it, it comes too.)
SKIP_DEPS=" libc6 libgcc-s1 libstdc++6 "

# add_backports writes an apt .sources entry for bookworm-backports that
# reuses the URI of the machine's own Debian entry, and refreshes only it.
add_backports() {
	local src=/etc/apt/sources.list.d/debian.sources dst="/etc/apt/sources.list.d/$BACKPORTS_LIST" uri keyring
	if [ ! -f "$dst" ]; then
		[ -f "$src" ] || { log "no $src to take the Debian mirror from"; return 1; }
		# The paragraph whose Suites hold plain "bookworm" (not -security).
		uri="$(awk 'BEGIN{RS=""} /Suites:[^\n]*bookworm( |\n|$)/ && !/security/ {print; exit}' "$src" | awk '/^URIs:/{print $2; exit}')"
		keyring="$(awk 'BEGIN{RS=""} /Suites:[^\n]*bookworm( |\n|$)/ && !/security/ {print; exit}' "$src" | awk '/^Signed-By:/{print $2; exit}')"
		[ -n "$uri" ] || { log "could not find the bookworm URI in $src"; return 1; }
		log "adding bookworm-backports ($uri) as $dst"
		printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n%s\n' \
			"$uri" "${keyring:+Signed-By: $keyring}" | as_root tee "$dst" >/dev/null
	fi
	# apt-get update can exit 0 with a fetch that failed (a warning): check
	# that the list arrived, and try again a few times before giving up.
	local try
	for try in 1 2 3; do
		apt-cache show mesa-vulkan-drivers/bookworm-backports >/dev/null 2>&1 && return 0
		[ "$try" = 1 ] || { log "bookworm-backports list missing after apt-get update: retrying"; sleep 5; }
		as_root apt-get update -o Dir::Etc::sourcelist="sources.list.d/$BACKPORTS_LIST" \
			-o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >/dev/null
	done
	apt-cache show mesa-vulkan-drivers/bookworm-backports >/dev/null 2>&1
}

# deps_of PKG: the package names PKG depends on (first alternative each).
deps_of() {
	apt-cache show --no-all-versions "$1" 2>/dev/null | awk -F': ' '/^Depends:/{print $2; exit}' |
		tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/ //g' | grep -v '^$' || true
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# write_icd copies the packaged ICD file with library_path pointing into our
# folder (the packaged one names the system path).
write_icd() {
	local pkg
	pkg="$(ls "$MESA"/root/usr/share/vulkan/icd.d/lvp_icd*.json | head -n1)"
	sed -E "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$MESA_LIB/libvulkan_lvp.so\"#" "$pkg" >"$MESA_ICD"
}

setup_mesa() {
	local key="v2 ${BACKPORTS_PKGS[*]} $MESA"
	if stamp_ok mesa "$key" && [ -f "$MESA_LIB/libvulkan_lvp.so" ]; then return; fi
	command -v apt-get >/dev/null || { log "no apt-get: lavapipe skipped, SwiftShader will be used"; return 0; }
	if ! add_backports; then
		log "bookworm-backports unavailable: lavapipe skipped, SwiftShader will be used"
		return 0
	fi
	if ! fetch_mesa; then
		rm -rf "$MESA"
		log "lavapipe could not be set up: SwiftShader will be used"
		return 0
	fi
	write_icd
	stamp_set mesa "$key"
	log "lavapipe ready: $MESA_ICD"
}

# fetch_mesa downloads lavapipe and the libraries it lacks and unpacks them
# into $MESA/root. (Called in an if: errexit is off, so each step checks.)
fetch_mesa() {
	rm -rf "$MESA"
	mkdir -p "$MESA/debs" "$MESA/root" || return 1
	local todo=() done=" " p d
	for p in "${BACKPORTS_PKGS[@]}"; do todo+=("$p/bookworm-backports"); done
	# Dependencies that this machine lacks come from bookworm, transitively.
	for p in $(deps_of mesa-vulkan-drivers/bookworm-backports); do
		[[ " ${BACKPORTS_PKGS[*]} " == *" $p "* || "$SKIP_DEPS" == *" $p "* ]] && continue
		installed "$p" || todo+=("$p")
	done
	while [ ${#todo[@]} -gt 0 ]; do
		p="${todo[0]}"
		todo=("${todo[@]:1}")
		[[ "$done" == *" $p "* ]] && continue
		done+="$p "
		log "downloading $p"
		# As root, apt warns that its _apt user cannot write here; say root is fine.
		(cd "$MESA/debs" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$p" >/dev/null) || return 1
		[[ "$p" == */* ]] && continue
		for d in $(deps_of "$p"); do
			[[ "$SKIP_DEPS" == *" $d "* ]] && continue
			installed "$d" || todo+=("$d")
		done
	done
	for f in "$MESA"/debs/*.deb; do dpkg -x "$f" "$MESA/root" || return 1; done
	[ -f "$MESA_LIB/libvulkan_lvp.so" ] || return 1
	if LD_LIBRARY_PATH="$MESA_LIB" ldd "$MESA_LIB/libvulkan_lvp.so" | grep -q 'not found'; then
		log "lavapipe misses libraries:"
		LD_LIBRARY_PATH="$MESA_LIB" ldd "$MESA_LIB/libvulkan_lvp.so" | grep 'not found' >&2
		return 1
	fi
}

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(all)
for s in "${steps[@]}"; do
	case "$s" in
	all) setup_chromium; setup_node; setup_go; setup_mesa ;;
	chromium | node | go | mesa | oracle) "setup_$s" ;;
	*) log "unknown step $s"; exit 2 ;;
	esac
done
