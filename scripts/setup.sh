#!/usr/bin/env bash
# scripts/setup.sh - install everything gochan's build needs on Debian 12.
#
# Idempotent: it installs only what is missing (one dpkg query and one
# `python3 -m ziglang version` when nothing is), so running it again costs
# about a second.  Run it as root, or as a user who may sudo.
#
#   Debian packages  liburcu-dev libcriterion-dev pkg-config gcc libc6-dev
#                    clang-14 libclang-rt-14-dev golang-go afl++ (+ python3-pip
#                    when python3 has no pip)
#   PyPI             ziglang==0.15.2, run as `python3 -m ziglang`
set -euo pipefail

ZIG_VERSION=0.15.2
PACKAGES=(
	liburcu-dev       # cds_list, futex wrappers (pkg-config liburcu-cds)
	libcriterion-dev  # the unit-test framework (tests/*.c)
	pkg-config
	gcc               # gcc-check, and the C runtime files every compiler links
	libc6-dev
	clang-14          # zig build asan / fuzz-replay (ASan + UBSan), libFuzzer
	libclang-rt-14-dev
	golang-go         # the Go twins of the benchmarks
	afl++             # fuzzing
	ca-certificates   # pip over https
	coreutils         # timeout(1)
)

log() { printf 'setup: %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		log "need root (or sudo) to run: $*" >&2
		exit 1
	fi
}

# Prints the packages of "$@" that are not installed.
missing_packages() {
	local pkg status
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		case "$status" in
		*" ok installed") ;;
		*) printf '%s\n' "$pkg" ;;
		esac
	done
}

# ---- Debian packages
if ! command -v python3 >/dev/null 2>&1; then
	PACKAGES+=(python3)
fi
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
	PACKAGES+=(python3-pip)
fi
mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
if [ ${#missing[@]} -gt 0 ]; then
	log "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq
	as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	log "Debian packages present"
fi

# ---- Zig, pinned, from PyPI
zig_version() { python3 -m ziglang version 2>/dev/null || true; }
if [ "$(zig_version)" != "$ZIG_VERSION" ]; then
	log "installing ziglang==$ZIG_VERSION from PyPI"
	export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
	pip_install=(python3 -m pip install --quiet "ziglang==$ZIG_VERSION")
	if ! out=$("${pip_install[@]}" 2>&1); then
		# Debian's python3 refuses user installs into the system (PEP 668).
		if grep -q externally-managed-environment <<<"$out"; then
			"${pip_install[@]}" --break-system-packages
		else
			printf '%s\n' "$out" >&2
			exit 1
		fi
	fi
	if [ "$(zig_version)" != "$ZIG_VERSION" ]; then
		log "python3 -m ziglang version gives '$(zig_version)', not $ZIG_VERSION" >&2
		exit 1
	fi
else
	log "zig $ZIG_VERSION present"
fi

# ---- sanity: the libraries the build finds through pkg-config
for pc in liburcu-cds criterion; do
	pkg-config --exists "$pc" || { log "pkg-config cannot find $pc" >&2; exit 1; }
done
log "ready: python3 -m ziglang build test-all"
