#!/usr/bin/env bash
# scripts/setup.sh [--test] - install what gochan needs on Debian 12.
#
#   ./scripts/setup.sh && python3 -m ziglang build demo             the main job
#   ./scripts/setup.sh --test && python3 -m ziglang build test-all  the tests
#
# Without --test: the library (liburcu, pthreads) and the main job (the
# search service: libmicrohttpd, PCRE2), plus Zig.  With --test, also every
# tool the test steps run: Criterion, clang-14 (ASan/UBSan, libFuzzer), g++
# and clang++ (cxx-check), Go (benchmark twins, fuzz differential), AFL++,
# a headless browser, the search service's test tools, and qemu-user-static
# with Debian's arm64 libraries (test-arm64; this adds the arm64 architecture
# to dpkg).  Rust for the crossbeam comparison is installed by `zig build
# bench` itself, not here.
#
# Idempotent: it installs only what is missing (one dpkg query and one
# `python3 -m ziglang version` when nothing is), so running it again costs
# about a second.  Run it as root, or as a user who may sudo.
#
#   PyPI             ziglang==0.15.2, run as `python3 -m ziglang`
set -euo pipefail

ZIG_VERSION=0.15.2
TEST=0
for arg in "$@"; do
	case $arg in
	--test) TEST=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "setup: unknown argument '$arg' (usage: $0 [--test])" >&2
		exit 2
		;;
	esac
done

MAIN_PACKAGES=(
	liburcu-dev       # cds_list, futex wrappers (pkg-config liburcu-cds)
	pkg-config
	gcc               # the C runtime files every compiler links; gcc-check
	libc6-dev
	libmicrohttpd-dev # the search service's HTTP server
	libpcre2-dev      # the search service's patterns
	ca-certificates   # pip over https
	coreutils         # timeout(1)
	curl              # talking to the search service
)
TEST_PACKAGES=(
	libcriterion-dev   # the unit-test framework (tests/*.c)
	clang-14           # zig build asan / fuzz-replay (ASan + UBSan), libFuzzer; clang++ for cxx-check
	libclang-rt-14-dev
	g++                # cxx-check
	golang-go          # the Go twins of the benchmarks, the fuzz differential
	gdb                # gdb-fibers (scripts/gdb/gochan-fibers.py under gdb -batch)
	afl++              # fuzzing
	chromium           # the search service's browser test
	chromium-driver
	python3-selenium
	ripgrep            # the search service's comparisons
	fd-find
	hyperfine
	stress-ng          # scripts/flake-hunt.sh: a known load beside the tests
	qemu-user-static   # test-arm64: qemu-aarch64-static
	cmake              # install-check: a consumer through find_package(gochan)
	groff-base         # man-check: the generated manual pages
	libuv1-dev         # libuv-example: a channel in a libuv loop (gopoll_chanfd)
)
# test-arm64 links against Debian's arm64 builds of the libraries.  Those
# that are Multi-Arch: same are installed next to the amd64 ones (multiarch):
ARM64_PACKAGES=(
	libc6-dev:arm64
	liburcu-dev:arm64
	libffi8:arm64      # libcriterion3's dependencies
	libgit2-1.5:arm64
)
# Criterion's arm64 packages are not installable next to the amd64 ones
# (libnanomsg5 is not Multi-Arch: same, so apt would REMOVE the amd64
# Criterion), so they are only unpacked into a directory of their own, which
# `zig build test-arm64` links from (-Darm64-sysroot, this default) and gives
# to the programs under qemu through LD_LIBRARY_PATH.
ARM64_SYSROOT=${GOCHAN_ARM64_SYSROOT:-/opt/gochan-arm64}
ARM64_UNPACKED=(libcriterion3:arm64 libcriterion-dev:arm64 libnanomsg5:arm64)

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

# Prints the packages of "$@" that are not installed ("name" means the
# machine's own architecture or arch-independent, "name:arch" that one).
# One dpkg-query for all of them, so that a second run stays fast.
missing_packages() {
	local native
	native=$(dpkg --print-architecture)
	dpkg-query -W -f='${Package}:${Architecture} ${db:Status-Abbrev}\n' 2>/dev/null |
		awk -v native="$native" '
			NR == FNR { if ($2 ~ /^ii/) { ok[$1] = 1; split($1, p, ":"); if (p[2] == "all") ok[p[1] ":" native] = 1 } next }
			{ want = ($0 ~ /:/) ? $0 : $0 ":" native; if (!(want in ok)) print $0 }
		' - <(printf '%s\n' "$@")
}

# ---- Debian packages
PACKAGES=("${MAIN_PACKAGES[@]}")
if ! command -v python3 >/dev/null 2>&1; then
	PACKAGES+=(python3)
fi
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
	PACKAGES+=(python3-pip)
fi
need_update=0
if [ "$TEST" -eq 1 ]; then
	PACKAGES+=("${TEST_PACKAGES[@]}")
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		log "adding the arm64 architecture to dpkg (for test-arm64)"
		as_root dpkg --add-architecture arm64
		need_update=1
	fi
	PACKAGES+=("${ARM64_PACKAGES[@]}")
fi
mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
if [ ${#missing[@]} -gt 0 ] || [ "$need_update" -eq 1 ]; then
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
	log "installing Debian packages: ${missing[*]}"
	as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	log "Debian packages present"
fi

# ---- arm64 Criterion, unpacked (see ARM64_UNPACKED above)
if [ "$TEST" -eq 1 ]; then
	# The stamp lists what was unpacked (apt-cache is slow: only asked when
	# unpacking).  Delete the directory to unpack again (e.g. after an upgrade).
	stamp="$ARM64_SYSROOT/.unpacked"
	if [ ! -e "$stamp" ] || [ "$(head -n1 "$stamp")" != "${ARM64_UNPACKED[*]}" ]; then
		log "unpacking ${ARM64_UNPACKED[*]} into $ARM64_SYSROOT"
		debs=$(mktemp -d)
		chmod 755 "$debs" # apt downloads as the _apt user
		(cd "$debs" && as_root apt-get download -qq -o APT::Sandbox::User=root "${ARM64_UNPACKED[@]}")
		as_root rm -rf "$ARM64_SYSROOT"
		as_root mkdir -p "$ARM64_SYSROOT"
		for deb in "$debs"/*.deb; do
			as_root dpkg-deb -x "$deb" "$ARM64_SYSROOT"
		done
		rm -rf "$debs"
		{
			printf '%s\n' "${ARM64_UNPACKED[*]}"
			apt-cache policy "${ARM64_UNPACKED[@]}" 2>/dev/null | sed -n 's/^ *Candidate: //p'
		} | as_root tee "$stamp" >/dev/null
	else
		log "arm64 Criterion present in $ARM64_SYSROOT"
	fi
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
pcs=(liburcu-cds libmicrohttpd libpcre2-8)
[ "$TEST" -eq 1 ] && pcs+=(criterion)
for pc in "${pcs[@]}"; do
	pkg-config --exists "$pc" || { log "pkg-config cannot find $pc" >&2; exit 1; }
done
if [ "$TEST" -eq 1 ]; then
	log "ready: python3 -m ziglang build test-all"
else
	log "ready: python3 -m ziglang build demo   (tests: $0 --test)"
fi
