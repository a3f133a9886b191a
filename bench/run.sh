#!/usr/bin/env bash
# bench/run.sh - build the gochan benchmarks and their Go and crossbeam-channel
# twins, run every case of all three INTERLEAVED for several rounds, and print a
# table of medians, a PNG chart of the ratios and the memory figures.
#
#   bench/run.sh [REGEX...]     only cases whose name matches one of the REGEXes
#   bench/run.sh suite          the issue-11 set: crossbeam's suite + Go's
#                               ChanSync, ChanProdCons0/100, SelectUncontended,
#                               ChanNonblocking
#   bench/run.sh goprogs        the whole-program ports of bench/goprogs.c
#                               (bench/goprogs.sh runs them idle and loaded)
#   bench/run.sh fiber          issue 18's table: bench/fiber_bench.c (go+wait,
#                               ping-pong, skynet) and chan_popular_200,
#                               chan_sync, pingpong_c0/c1, prodcons_c1_t1,
#                               bounded1_spsc/mpsc, with the fiber column
#   bench/run.sh fiber-suite    every case of crossbeam_suite, chan_bench and
#                               select_bench (crossbeam's suite and Go's
#                               channel/select benchmarks), with the fiber column
#
# Environment:
#   ROUNDS=5          rounds per case (each round runs gochan and Go once;
#                     the order alternates between rounds)
#   QUICK=1           smoke test: 1 round and n divided by QUICK_DIV (20)
#   BENCH_PROCS=N     width of the "parallel" cases in both twins
#                     (default: the online CPU count, Go's GOMAXPROCS)
#   BENCH_TIMEOUT=120 seconds before one run is killed (reported as TIMEOUT)
#   SUITE_N=5000000   messages per case of crossbeam_suite (crossbeam's
#                     MESSAGES; also the capacity of its boundedN_* channels);
#                     e.g. SUITE_N=500000 for a run ten times shorter
#   BENCH_RUST=1      the crossbeam-channel column (default on): bench/rust builds
#                     offline against Debian's librust-crossbeam-channel-dev
#                     with the newest rustc the machine has (rustup's
#                     toolchains or Debian's; BENCH_CARGO/BENCH_RUSTC force
#                     one); run.sh apt-get installs the crate (and Debian's
#                     cargo) when missing (as root, or through sudo -n).
#                     BENCH_RUST=0 leaves the column out
#   BENCH_BASE=REV    also run gochan as of git revision REV ("before"; its
#                     library, today's bench programs), interleaved with the
#                     rest, with a column after/before (with the fiber
#                     column too: "fiber before", the fibers of REV)
#   BENCH_CHART=1     write the PNG chart (default on; python3-matplotlib,
#                     installed like cargo when missing, else gnuplot)
#   BENCH_BIN_DIR=dir use the C programs already built there instead of
#                     building them (`zig build bench` sets GOCHAN_BENCH_BIN,
#                     read as the same thing, to its bench-bin output)
#   BENCH_LOAD=N      loaded mode: N busy processes (bench/load.sh: shell busy
#                     loops at this script's priority) run from just before
#                     the first case to the end of the last, stopped on any
#                     exit (error, Ctrl-C); `uptime` before and after, and
#                     "loaded: N busy" in the table's header.  0: idle (default)
#   BENCH_NAIVE=1     the naive-channel column (bench/naive/: one global mutex,
#                     a condition variable per waiter) for the families that
#                     can run on it (`prog --impls` lists naive: goprogs);
#                     default on when a selected case has one; 0 leaves it out
#   BENCH_FIBER=0     1: the fiber column: the families whose `prog --impls`
#                     lists fiber (bench.h's bench_main_goroutines: chan_bench,
#                     select_bench, crossbeam_suite) run again with their
#                     goroutines as fibers (BENCH_IMPL=fiber), interleaved
#                     with the rest; columns fiber, fiber/Go, fiber/threads.
#                     The named sets fiber and fiber-suite turn it on
#   BENCH_FAMILIES="a b"  only the cases of these families (bench/<a>.c)
#   BENCH_UNIT=ns     ns: ns/op; s: the whole run's seconds (ns/op times n),
#                     for programs timed whole (bench/goprogs.sh sets it)
#   BENCH_OUT=file    where the table goes (default bench/results/latest.txt);
#                     the raw lines then go to file without .txt, plus .raw
# A program that prints "maxrss_kib=N" (stderr or stdout) gets its peak RSS
# tabulated under the timing table (fiber_bench's skynet and its Go twin).
#   BENCH_BUILD_ONLY=1  build libgochan.a and the C programs into BENCH_BUILD
#                     (required then) and run nothing; =lib: libgochan.a only
#                     (bench/loadswitch.sh)
#   CC, CFLAGS        C compiler and flags (default: python3 -m ziglang cc, -O3)
#   BENCH_BUILD=dir   build directory, kept afterwards (default: a fresh
#                     temporary directory per run, removed at exit)
#
# Writes the table to bench/results/latest.txt (or BENCH_OUT), the raw per-run lines to
# bench/results/latest.raw and the chart of the ratios to
# bench/results/latest.png.  See bench/README.md for what the cases mean.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=${QUICK:-0}
QUICK_DIV=${QUICK_DIV:-20}
if [ "$QUICK" = 1 ]; then ROUNDS=${ROUNDS:-1}; else ROUNDS=${ROUNDS:-5}; fi
BENCH_TIMEOUT=${BENCH_TIMEOUT:-120}
RESULTS=$ROOT/bench/results
BENCH_LOAD=${BENCH_LOAD:-0}
[[ $BENCH_LOAD =~ ^[0-9]+$ ]] || { echo "run.sh: BENCH_LOAD must be a count" >&2; exit 2; }
BENCH_UNIT=${BENCH_UNIT:-ns}
# shellcheck source=bench/load.sh
. "$ROOT/bench/load.sh"
# Every exit (the end, an error under set -e, Ctrl-C, kill) stops the load
# and removes a temporary build directory.
RM_BUILD=""
cleanup() {
	load_stop
	[ -z "$RM_BUILD" ] || rm -rf "$RM_BUILD"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Each run builds into its own directory: the checkout is shared, and two
# runs at once must not overwrite each other's programs, case list or data.
if [ -n "${BENCH_BUILD:-}" ]; then
	mkdir -p "$BENCH_BUILD"
	BUILD=$(cd "$BENCH_BUILD" && pwd)
else
	[ "${BENCH_BUILD_ONLY:-0}" = 0 ] || { echo "run.sh: BENCH_BUILD_ONLY needs BENCH_BUILD" >&2; exit 2; }
	BUILD=$(mktemp -d "${TMPDIR:-/tmp}/gochan-bench.XXXXXX")
	RM_BUILD=$BUILD
fi
mkdir -p "$RESULTS"

log() { printf '%s\n' "$*" >&2; }

# The named case sets.
if [ "$#" = 1 ] && [ "$1" = suite ]; then
	set -- '^bounded' '^chan_sync$' '^prodcons_c0_t2$' '^prodcons_c100_t2$' \
		'^select_uncontended$' '^nonblocking$'
elif [ "$#" = 1 ] && [ "$1" = goprogs ]; then
	set -- '^doubleselect$' '^sieve$' '^powser1$' '^multiconsumer$' '^xbeam_stress$' \
		'^xbeam_stress_shared$'
elif [ "$#" = 1 ] && [ "$1" = fiber ]; then
	BENCH_FIBER=${BENCH_FIBER:-1}
	set -- '_fiber$' '^skynet$' '^chan_popular_200$' '^chan_sync$' '^pingpong_c[01]$' \
		'^prodcons_c1_t1$' '^bounded1_spsc$' '^bounded1_mpsc$'
elif [ "$#" = 1 ] && [ "$1" = fiber-suite ]; then
	BENCH_FIBER=${BENCH_FIBER:-1}
	BENCH_FAMILIES=${BENCH_FAMILIES:-crossbeam_suite chan_bench select_bench}
	set --
fi
BENCH_FIBER=${BENCH_FIBER:-0}
BENCH_FAMILIES=${BENCH_FAMILIES:-}

# apt-get install the Debian packages named, when allowed (root or sudo -n);
# a failure is only a warning: the caller checks for what it needed.
apt_install() {
	local sudo=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || {
			log "WARNING: cannot install $* (not root, no sudo)"
			return 1
		}
		sudo="sudo -n"
	fi
	log "installing $* (apt-get)"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 ||
		{ $sudo apt-get update -qq >&2 && $sudo env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "$@" >&2; } ||
		{ log "WARNING: apt-get install $* failed"; return 1; }
}

# ---- build the C programs (unless given) ----------------------------------
BENCH_BIN_DIR=${BENCH_BIN_DIR:-${GOCHAN_BENCH_BIN:-}} # build.zig sets GOCHAN_BENCH_BIN
if [ -n "$BENCH_BIN_DIR" ]; then
	CBIN=$BENCH_BIN_DIR
	CC_DESC=${BENCH_CC_DESC:-prebuilt in $CBIN} # goprogs.sh names the compiler
else
	CBIN=$BUILD
	if [ -z "${CC:-}" ]; then
		if python3 -m ziglang version >/dev/null 2>&1; then
			CC="python3 -m ziglang cc"
		else
			CC=gcc
		fi
	fi
	CFLAGS=${CFLAGS:--O3 -DNDEBUG}
	CC_DESC="$CC $CFLAGS"
	URCU=$(pkg-config --cflags --libs liburcu-cds 2>/dev/null || echo "-lurcu-cds -lurcu-common")
	COMMON="-std=c11 -D_GNU_SOURCE -Iinclude -I."
	log "building libgochan objects with: $CC_DESC"
	rm -rf "$BUILD/obj" && mkdir -p "$BUILD/obj"
	objs=()
	# The library's directories, as build.zig's lib_dirs.
	for src in $(scripts/lib-srcs.sh); do
		[ -e "$src" ] || continue
		obj="$BUILD/obj/$(echo "$src" | tr / _).o"
		# shellcheck disable=SC2086
		if $CC $COMMON $CFLAGS -c "$src" -o "$obj"; then
			objs+=("$obj")
		else
			log "WARNING: $src does not compile; left out of libgochan.a"
		fi
	done
	rm -f "$BUILD/libgochan.a"
	ar rcs "$BUILD/libgochan.a" "${objs[@]}"
	if [ "${BENCH_BUILD_ONLY:-0}" = lib ]; then
		log "built $BUILD/libgochan.a (BENCH_BUILD_ONLY=lib)"
		exit 0
	fi
	for src in bench/*.c; do
		fam=$(basename "$src" .c)
		log "building $fam"
		rm -f "$BUILD/$fam"
		# shellcheck disable=SC2086
		$CC $COMMON $CFLAGS "$src" "$BUILD/libgochan.a" $URCU -pthread -o "$BUILD/$fam" ||
			log "WARNING: $fam does not build; its cases are skipped"
	done
fi
if [ "${BENCH_BUILD_ONLY:-0}" = 1 ]; then
	log "built into $BUILD (BENCH_BUILD_ONLY)"
	exit 0
fi

# ---- build the Go twins ----------------------------------------------------
export GO111MODULE=off GOFLAGS=
# Go's build cache is safe to share between concurrent builds.
export GOCACHE=${GOCACHE:-${TMPDIR:-/tmp}/gochan-bench-gocache}
GO_DESC=$(go version 2>/dev/null || echo "go: not found")
# Each twin is one family file built together with bench/go/harness.go (the
# protocol and runners they all share).
for src in bench/go/*.go; do
	[ -e "$src" ] || continue
	fam=$(basename "$src" .go)
	[ "$fam" != harness ] || continue
	log "building Go twin $fam"
	rm -f "$BUILD/${fam}_go"
	(cd bench/go && go build -o "$BUILD/${fam}_go" "$fam.go" harness.go) ||
		log "WARNING: Go twin $fam does not build; shown as MISSING"
done

# ---- optional: crossbeam-channel twins (Rust), offline from Debian's crates --
IMPLS="gochan go"
RUST_DESC=""
# The crates come from Debian's librust-*-dev packages (offline,
# bench/rust/.cargo/config.toml); the compiler is the newest the machine has:
# each rustup toolchain (stable, nightly...) and Debian's /usr/bin/rustc (1.63
# on Debian 12, 2x slower on the buffered cases) are asked their version and
# the highest wins, as the peers' strongest build is what gochan is compared
# with.  BENCH_CARGO=/path/to/cargo BENCH_RUSTC=/path/to/rustc forces a pair.
pick_rust() {
	local best="" bestv="" tc cargo rustc v
	if [ -n "${BENCH_CARGO:-}" ] && [ -n "${BENCH_RUSTC:-}" ]; then
		RUST_CARGO=$BENCH_CARGO RUST_RUSTC=$BENCH_RUSTC
		return 0
	fi
	local rustup
	rustup=$(command -v rustup || echo "$HOME/.cargo/bin/rustup")
	if [ -x "$rustup" ]; then
		for tc in $("$rustup" toolchain list 2>/dev/null | awk '{print $1}'); do
			cargo=$("$rustup" which --toolchain "$tc" cargo 2>/dev/null) || continue
			rustc=$("$rustup" which --toolchain "$tc" rustc 2>/dev/null) || continue
			v=$("$rustc" --version 2>/dev/null | awk '{print $2}') || continue
			if [ -z "$bestv" ] || [ "$(printf '%s\n%s\n' "$bestv" "$v" | sort -V | tail -1)" = "$v" ]; then
				best="$cargo $rustc" bestv=$v
			fi
		done
	fi
	if [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ]; then
		v=$(/usr/bin/rustc --version 2>/dev/null | awk '{print $2}')
		if [ -z "$bestv" ] || [ "$(printf '%s\n%s\n' "$bestv" "$v" | sort -V | tail -1)" = "$v" ]; then
			best="/usr/bin/cargo /usr/bin/rustc" bestv=$v
		fi
	fi
	[ -n "$best" ] || return 1
	read -r RUST_CARGO RUST_RUSTC <<<"$best"
}
have_crossbeam() {
	compgen -G "/usr/share/cargo/registry/crossbeam-channel-*" >/dev/null && pick_rust
}
if [ "${BENCH_RUST:-1}" = 1 ] && ! have_crossbeam; then
	apt_install cargo librust-crossbeam-channel-dev || true
fi
if [ "${BENCH_RUST:-1}" = 1 ] && ! have_crossbeam; then
	log "WARNING: no cargo/rustc or no librust-crossbeam-channel-dev: crossbeam column left out"
fi
if [ "${BENCH_RUST:-1}" = 1 ] && have_crossbeam; then
	log "building crossbeam-channel twins with $("$RUST_RUSTC" --version)"
	RT=${CARGO_TARGET_DIR:-${TMPDIR:-/tmp}/gochan-bench-rust-target}/$("$RUST_RUSTC" --version | tr -c 'A-Za-z0-9.\n' _)
	if (cd bench/rust && CARGO_TARGET_DIR=$RT RUSTC=$RUST_RUSTC "$RUST_CARGO" build --release -q); then
		for src in bench/*.c; do
			fam=$(basename "$src" .c)
			[ ! -x "$RT/release/$fam" ] || cp "$RT/release/$fam" "$BUILD/${fam}_rs"
		done
		IMPLS="gochan go crossbeam"
		RUST_DESC="crossbeam-channel $(basename /usr/share/cargo/registry/crossbeam-channel-* |
			sed 's/crossbeam-channel-//') (Debian's crate), $("$RUST_RUSTC" --version 2>/dev/null)"
	else
		log "WARNING: the crossbeam twins do not build; column left out"
	fi
fi

# ---- optional: gochan as of BENCH_BASE (the "before" column) ---------------
BASE_DESC=""
if [ -n "${BENCH_BASE:-}" ]; then
	BASE_SRC=$BUILD/base-src
	rm -rf "$BASE_SRC" "$BUILD/base-obj" && mkdir -p "$BASE_SRC" "$BUILD/base-obj"
	if git archive "$BENCH_BASE" | tar -x -C "$BASE_SRC"; then
		BCC=${CC:-python3 -m ziglang cc}
		BCFLAGS=${CFLAGS:--O3 -DNDEBUG}
		BURCU=$(pkg-config --cflags --libs liburcu-cds 2>/dev/null || echo "-lurcu-cds -lurcu-common")
		log "building gochan as of $BENCH_BASE"
		bobjs=()
		for src in $(scripts/lib-srcs.sh "$BASE_SRC"); do
			[ -e "$src" ] || continue
			obj="$BUILD/base-obj/$(echo "${src#"$BASE_SRC"/}" | tr / _).o"
			# shellcheck disable=SC2086
			$BCC -std=c11 -D_GNU_SOURCE -I"$BASE_SRC/include" -I"$BASE_SRC" $BCFLAGS -c "$src" -o "$obj" &&
				bobjs+=("$obj")
		done
		ar rcs "$BUILD/libgochan-base.a" "${bobjs[@]}"
		for src in bench/*.c; do
			fam=$(basename "$src" .c)
			# shellcheck disable=SC2086
			$BCC -std=c11 -D_GNU_SOURCE -I"$BASE_SRC/include" -I"$BASE_SRC" $BCFLAGS "$src" \
				"$BUILD/libgochan-base.a" $BURCU -pthread -o "$BUILD/${fam}_base" ||
				log "WARNING: $fam does not build against $BENCH_BASE"
		done
		IMPLS="gochan base ${IMPLS#gochan }"
		BASE_DESC="gochan as of $BENCH_BASE ($(git rev-parse --short "$BENCH_BASE")), $BCC $BCFLAGS"
	else
		log "WARNING: cannot export $BENCH_BASE: no before column"
	fi
fi

# ---- the case list: from each C program's --list --------------------------
# lines: family case n
CASES_FILE=$BUILD/cases.txt
: >"$CASES_FILE"
for src in bench/*.c; do
	fam=$(basename "$src" .c)
	[ -z "$BENCH_FAMILIES" ] || [[ " $BENCH_FAMILIES " == *" $fam "* ]] || continue
	[ -x "$CBIN/$fam" ] || { log "missing $CBIN/$fam, skipped"; continue; }
	"$CBIN/$fam" --list | while read -r name n; do
		if [ $# -gt 0 ]; then
			keep=0
			for re in "$@"; do [[ $name =~ $re ]] && keep=1; done
			[ $keep = 1 ] || continue
		fi
		if [ "$fam" = crossbeam_suite ] && [ -n "${SUITE_N:-}" ]; then n=$SUITE_N; fi
		if [ "$QUICK" = 1 ]; then n=$((n / QUICK_DIV)); [ "$n" -ge 1 ] || n=1; fi
		echo "$fam $name $n"
	done >>"$CASES_FILE"
done
# The Go twin must know the same cases (run.sh gives both the C list's n).
for src in bench/*.c; do
	fam=$(basename "$src" .c)
	[ -x "$CBIN/$fam" ] && [ -x "$BUILD/${fam}_go" ] || continue
	if ! diff <("$CBIN/$fam" --list | cut -d' ' -f1) \
		<("$BUILD/${fam}_go" --list | cut -d' ' -f1) >/dev/null; then
		log "WARNING: $fam and its Go twin list different cases"
	fi
done
ncases=$(wc -l <"$CASES_FILE")
[ "$ncases" -gt 0 ] || { log "no cases selected"; exit 1; }

# ---- the naive channel: families whose program runs on it too --------------
# (`prog --impls` lists "naive"; BENCH_IMPL=naive selects it at run time.)
NAIVE_FAMS=" "
if [ "${BENCH_NAIVE:-1}" = 1 ]; then
	for fam in $(cut -d' ' -f1 "$CASES_FILE" | sort -u); do
		if "$CBIN/$fam" --impls 2>/dev/null | grep -qw naive; then
			NAIVE_FAMS="$NAIVE_FAMS$fam "
		fi
	done
	[ "$NAIVE_FAMS" = " " ] || IMPLS="$IMPLS naive"
fi

# ---- fibers as the goroutines: families whose program can (issue 18) -------
# (`prog --impls` lists "fiber"; BENCH_IMPL=fiber selects it at run time.)
FIBER_FAMS=" "
if [ "$BENCH_FIBER" = 1 ]; then
	for fam in $(cut -d' ' -f1 "$CASES_FILE" | sort -u); do
		if "$CBIN/$fam" --impls 2>/dev/null | grep -qw fiber; then
			FIBER_FAMS="$FIBER_FAMS$fam "
		fi
	done
	[ "$FIBER_FAMS" = " " ] || IMPLS="$IMPLS fiber"
	# With BENCH_BASE too: the fiber column of the "before" library
	# (basefiber), for a before/after of the fiber runtime.
	if [ "$FIBER_FAMS" != " " ] && [[ " $IMPLS " == *" base "* ]]; then
		IMPLS="$IMPLS basefiber"
	fi
fi

# ---- run, interleaved -------------------------------------------------------
# raw lines: case impl ns_per_op|FAIL|TIMEOUT n
RAW=$BUILD/raw.txt
: >"$RAW"
RSS=$BUILD/rss.txt # case impl KiB, from the programs' maxrss_kib= lines
: >"$RSS"
run_one() { # fam case n impl
	local fam=$1 name=$2 n=$3 impl=$4 bin out rc cimpl=gochan
	case $impl in
	gochan) bin=$CBIN/$fam ;;
	go) bin=$BUILD/${fam}_go ;;
	crossbeam) bin=$BUILD/${fam}_rs ;;
	base) bin=$BUILD/${fam}_base ;;
	naive)
		# Only the families that have it; the table shows "-" for the others.
		[[ $NAIVE_FAMS == *" $fam "* ]] || return 0
		bin=$CBIN/$fam cimpl=naive
		;;
	fiber)
		[[ $FIBER_FAMS == *" $fam "* ]] || return 0
		bin=$CBIN/$fam cimpl=fiber
		;;
	basefiber)
		[[ $FIBER_FAMS == *" $fam "* ]] || return 0
		bin=$BUILD/${fam}_base cimpl=fiber
		;;
	esac
	if [ ! -x "$bin" ]; then echo "$name $impl MISSING $n" >>"$RAW"; return; fi
	set +e
	out=$(BENCH_IMPL=$cimpl timeout -k 5 "$BENCH_TIMEOUT" "$bin" "$name" "$n" 2>&1)
	rc=$?
	set -e
	local ns
	ns=$(printf '%s\n' "$out" | sed -n 's/^case=.* ns_per_op=\([0-9.]*\)$/\1/p' | tail -1)
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		ns=TIMEOUT
	elif [ $rc != 0 ] || [ -z "$ns" ]; then
		log "  $impl $name failed (rc=$rc): $(printf '%s' "$out" | tail -2)"
		ns=FAIL
	else
		n=$(printf '%s\n' "$out" | sed -n 's/^case=.* n=\([0-9]*\) .*$/\1/p' | tail -1)
		local rss
		rss=$(printf '%s\n' "$out" | sed -n 's/^maxrss_kib=\([0-9]*\)$/\1/p' | tail -1)
		[ -z "$rss" ] || echo "$name $impl $rss" >>"$RSS"
	fi
	echo "$name $impl $ns $n" >>"$RAW"
}

# The cache-line round trip between two CPUs, once per round (bench/probe/
# cacheline.c): on a VM it moves several-fold from hour to hour, and every
# OS-thread hand-off pays it a few times while Go's goroutine pairs mostly do
# not; the table's header reports it.  The median of the probe's 500-trip
# batches, not its mean: the mean counts the second thread's start and any
# preemption (beside a load it read 115-3623 ns for a line that cost ~60).
# Its run-to-run flips (about 50 vs 320 ns on these VMs, with nothing else
# running) are the host's.
PROBE=$BUILD/cacheline_probe
PROBES=$BUILD/probe.txt
: >"$PROBES"
${CC:-gcc} -O2 -pthread bench/probe/cacheline.c -o "$PROBE" 2>/dev/null || PROBE=""
probe() {
	[ -z "$PROBE" ] || timeout 30 "$PROBE" 300000 2>/dev/null |
		sed -n 's/^cacheline_median_batch_ns=//p' >>"$PROBES" || true
}

# The loaded mode: the load runs from here to the end of the last round.
UPTIME_BEFORE=$(load_uptime)
log "uptime before: $UPTIME_BEFORE"
if [ "$BENCH_LOAD" -gt 0 ]; then
	log "loaded mode: starting $BENCH_LOAD busy processes"
	load_start "$BENCH_LOAD"
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
START=$(date +%s)
for r in $(seq 1 "$ROUNDS"); do
	log "round $r/$ROUNDS ($ncases cases)"
	probe
	# Rotate which implementation goes first, round by round.
	read -r -a impls <<<"$IMPLS"
	k=${#impls[@]}
	order=()
	for i in $(seq 0 $((k - 1))); do order+=("${impls[$(((i + r - 1) % k))]}"); done
	while read -r fam name n; do
		for impl in "${order[@]}"; do
			run_one "$fam" "$name" "$n" "$impl"
		done
	done <"$CASES_FILE"
done
probe
ELAPSED=$(($(date +%s) - START))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
UPTIME_AFTER=$(load_uptime)
log "uptime after: $UPTIME_AFTER"
if [ "$BENCH_LOAD" -gt 0 ]; then
	load_stop
	LOAD_DESC="loaded: $BENCH_LOAD busy (bench/load.sh: $BENCH_LOAD x sh -c 'while :; do :; done', started before the first case, stopped after the last)"
else
	LOAD_DESC="idle: no load started by run.sh"
fi
PROBE_DESC=$(python3 -c '
import sys, statistics
v = [float(x) for x in open(sys.argv[1]).read().split()]
print(f"{statistics.median(v):.0f} ns median ({min(v):.0f}-{max(v):.0f}) over {len(v)} probes, one per round and one at the end" if v else "not measured")
' "$PROBES" 2>/dev/null || echo "not measured")

# ---- the table ----------------------------------------------------------------
CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
{
	what="ns/op"
	[ "$BENCH_UNIT" != s ] || what="seconds per whole run"
	naive_desc=""
	# shellcheck disable=SC2086 # word splitting trims the list
	[ "$NAIVE_FAMS" = " " ] || naive_desc=" vs the naive channel (bench/naive/, in $(echo $NAIVE_FAMS))"
	fiber_desc=""
	# shellcheck disable=SC2086 # word splitting trims the list
	[ "$FIBER_FAMS" = " " ] || fiber_desc=" vs gochan with fibers as the goroutines (column fiber, BENCH_IMPL=fiber, in $(echo $FIBER_FAMS); fiber_bench's own cases are fibers in the gochan column)"
	echo "gochan vs Go${RUST_DESC:+ vs crossbeam-channel}$naive_desc$fiber_desc: $what, median (min-max) of $ROUNDS interleaved rounds; ratios of medians (below 1: gochan faster)"
	echo "$LOAD_DESC"
	echo "uptime before: $UPTIME_BEFORE"
	echo "uptime after:  $UPTIME_AFTER"
	echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "command: $([ "$QUICK" = 1 ] && echo "QUICK=1 ")${SUITE_N:+SUITE_N=$SUITE_N }$([ "$BENCH_LOAD" = 0 ] || echo "BENCH_LOAD=$BENCH_LOAD ")$([ "$BENCH_FIBER" = 0 ] || echo "BENCH_FIBER=1 ")${BENCH_FAMILIES:+BENCH_FAMILIES=\"$BENCH_FAMILIES\" }ROUNDS=$ROUNDS bench/run.sh $*"
	echo "machine: $(nproc) CPUs (nproc), ${CPU:-unknown CPU}, $(uname -sr)"
	echo "parallel width (BENCH_PROCS): ${BENCH_PROCS:-$(nproc)}"
	echo "gochan:  $CC_DESC, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "go:      $GO_DESC"
	[ -z "$RUST_DESC" ] || echo "rust:    $RUST_DESC"
	[ -z "$BASE_DESC" ] || echo "before:  $BASE_DESC"
	echo "cache-line round trip between two CPUs (bench/probe/cacheline.c, median of 500-trip batches, once per round): $PROBE_DESC"
	echo "elapsed: ${ELAPSED}s; load average (1/5/15 min) at start $LOAD_START, at end $LOAD_END"
	echo
	python3 - "$CASES_FILE" "$RAW" "$BUILD/ratios.tsv" "$BENCH_UNIT" <<'EOF'
import sys, statistics
cases = [l.split()[1] for l in open(sys.argv[1]) if l.strip()]
unit = sys.argv[4]
runs = {}
ns = {}
for l in open(sys.argv[2]):
    name, impl, val, n = l.split()
    if unit == "s" and val.replace('.', '', 1).isdigit():
        val = f"{float(val) * float(n) / 1e9:.6f}"  # the whole run, seconds
    runs.setdefault((name, impl), []).append(val)
    ns[name] = n
def fmt(x):
    if unit == "s":  # 3 significant digits, no exponent: 0.0000860, 0.118, 12.3
        import math
        return f"{x:.{min(7, max(0, 2 - math.floor(math.log10(x))))}f}" if x > 0 else "0"
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"
def summary(vals):
    nums = [float(v) for v in vals if v.replace('.', '', 1).isdigit()]
    bad = [v for v in vals if not v.replace('.', '', 1).isdigit()]
    if not nums:
        return None, (bad[0] if bad else "-")
    med = statistics.median(nums)
    s = f"{fmt(med)} ({fmt(min(nums))}-{fmt(max(nums))})"
    if bad:
        s += f" +{len(bad)} {bad[0]}"
    return med, s
xb = any(impl == "crossbeam" for (_, impl) in runs)
base = any(impl == "base" for (_, impl) in runs)
nv = any(impl == "naive" for (_, impl) in runs)
fb = any(impl == "fiber" for (_, impl) in runs)
bfb = any(impl == "basefiber" for (_, impl) in runs)
u = "s" if unit == "s" else "ns/op"
head = ["case", "n", f"gochan {u}", f"Go {u}", "gochan/Go"]
if xb:
    head += [f"crossbeam {u}", "gochan/xbeam"]
if base:
    head += [f"before {u}", "after/before"]
if nv:
    head += [f"naive {u}", "gochan/naive"]
if fb:
    head += [f"fiber {u}", "fiber/Go", "fiber/threads"]
if bfb:
    head += [f"fiber before {u}", "fiber after/before"]
rows = [head]
def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"
tsv = open(sys.argv[3], "w")  # case, gochan/Go, gochan/crossbeam ("-": none): the chart's data
for c in cases:
    mg, sg = summary(runs.get((c, "gochan"), []))
    mo, so = summary(runs.get((c, "go"), []))
    row = [c, ns.get(c, "-"), sg, so, ratio(mg, mo)]
    mx = None
    if xb:
        mx, sx = summary(runs.get((c, "crossbeam"), []))
        row += [sx, ratio(mg, mx)]
    mb = None
    if base:
        mb, sb = summary(runs.get((c, "base"), []))
        row += [sb, ratio(mg, mb)]
    if nv:
        mn, sn = summary(runs.get((c, "naive"), []))
        row += [sn, ratio(mg, mn)]
    if fb:
        mf, sf = summary(runs.get((c, "fiber"), []))
        row += [sf, ratio(mf, mo), ratio(mf, mg)]
    if bfb:
        mbf, sbf = summary(runs.get((c, "basefiber"), []))
        row += [sbf, ratio(mf if fb else None, mbf)]
    rows.append(row)
    tsv.write(f"{c}\t{ratio(mg, mo)}\t{ratio(mg, mx)}\t{ratio(mg, mb)}\n")
tsv.close()
w = [max(len(r[i]) for r in rows) for i in range(len(head))]
for i, r in enumerate(rows):
    print("  ".join(f"{v:<{w[j]}}" if j == 0 else f"{v:>{w[j]}}" for j, v in enumerate(r)))
    if i == 0:
        print("  ".join("-" * x for x in w))
EOF
	# Peak RSS of the programs that report it (maxrss_kib=).
	if [ -s "$RSS" ]; then
		echo
		echo "peak RSS (the programs' maxrss_kib=: getrusage after the run), MiB, median (min-max)"
		python3 - "$RSS" <<'EOF'
import sys, statistics
v, cases, impls = {}, [], []
for l in open(sys.argv[1]):
    c, i, k = l.split()
    v.setdefault((c, i), []).append(int(k) / 1024)
    cases += [c] if c not in cases else []
    impls += [i] if i not in impls else []
rows = [["case"] + impls]
for c in cases:
    r = [c]
    for i in impls:
        x = v.get((c, i))
        r.append(f"{statistics.median(x):.0f} ({min(x):.0f}-{max(x):.0f})" if x else "-")
    rows.append(r)
w = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
for r in rows:
    print("  ".join(x.ljust(w[j]) if j == 0 else x.rjust(w[j]) for j, x in enumerate(r)))
EOF
	fi
	# Memory: each implementation's mem_report (bench/mem_report.c and twins).
	memfiles=()
	for impl in gochan go crossbeam; do
		case $impl in
		gochan) bin=$CBIN/mem_report ;;
		go) bin=$BUILD/mem_report_go ;;
		crossbeam) bin=$BUILD/mem_report_rs ;;
		esac
		[ -x "$bin" ] || continue
		timeout -k 5 "$BENCH_TIMEOUT" "$bin" --report >"$BUILD/mem_$impl.txt" 2>/dev/null ||
			log "WARNING: $impl mem_report failed"
		memfiles+=("$BUILD/mem_$impl.txt")
	done
	if [ ${#memfiles[@]} -gt 0 ]; then
		echo
		echo "memory (bench/mem_report.c and twins; 8-byte elements): bytes / heap allocations"
		python3 - "${memfiles[@]}" <<'EOF'
import sys
vals, impls, items = {}, [], []
for path in sys.argv[1:]:
    for l in open(path):
        f = dict(kv.split("=", 1) for kv in l.split()[1:])
        if f["impl"] not in impls:
            impls.append(f["impl"])
        if f["item"] not in items:
            items.append(f["item"])
        vals[(f["item"], f["impl"])] = f"{f['bytes']} / {float(f['allocs']):g}"
what = {
    "chan_cap0": "chan_new(8, 0) / make(chan int) / bounded(0)",
    "chan_cap1": "capacity 1",
    "chan_cap64": "capacity 64",
    "op_heap": "allocations per blocking op (after warm-up)",
    "waiter_plain": "per blocked send/recv (gochan: its stack; Go: g+stack+sudog; crossbeam: a thread's first block)",
    "waiter_select_case": "per case of a blocked select (gochan: its stack)",
    "sizeof_chan": "sizeof(struct chan)",
}
rows = [["item"] + impls + ["what"]]
rows += [[i] + [vals.get((i, m), "-") for m in impls] + [what.get(i, "")] for i in items]
w = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
for r in rows:
    last = len(r) - 1
    print("  ".join(v.ljust(w[j]) if j in (0, last) else v.rjust(w[j]) for j, v in enumerate(r)).rstrip())
EOF
	fi
} >"$BUILD/table.txt"
cat "$BUILD/table.txt"

# ---- the chart: gochan/Go and gochan/crossbeam per case, PNG -----------------
chart_py() { # out.png title; $PY: a python3 with matplotlib
	"$PY" - "$BUILD/ratios.tsv" "$1" "$2" <<'EOF'
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
num = lambda v: float(v) if v not in ("-", "") else float("nan")
cases = [r[0] for r in rows]
go = [num(r[1]) for r in rows]
xb = [num(r[2]) for r in rows]
ab = [num(r[3]) for r in rows]
fig, ax = plt.subplots(figsize=(9, 0.42 * len(cases) + 1.6))
y = list(range(len(cases)))
# Bars grow from 1 (parity) towards the ratio, on a log axis: a ratio of 0.5
# and one of 2 are equally long, one to each side.
def bars(vals, dy, label):
    ok = [(i, v) for i, v in zip(y, vals) if v == v and v > 0]
    if ok:
        ax.barh([i + dy for i, _ in ok], [v - 1 for _, v in ok], left=1, height=h, label=label)
        for i, v in ok:
            ax.text(v, i + dy, f" {v:.2f} ", va="center", fontsize=6,
                    ha="left" if v >= 1 else "right")
nb = 3 if any(v == v for v in ab) else 2
h = 0.8 / nb
bars(go, -0.4 + h / 2, "gochan / Go")
bars(xb, -0.4 + 1.5 * h, "gochan / crossbeam-channel")
if nb == 3:
    bars(ab, -0.4 + 2.5 * h, "gochan after / before")
allv = [v for v in go + xb + ab if v == v and v > 0] or [1]
ax.set_xscale("log")
ax.set_xlim(min(min(allv), 1) / 1.6, max(max(allv), 1) * 1.6)
ax.axvline(1.0, color="black", linewidth=0.8)
ax.set_yticks(y)
ax.set_yticklabels(cases, fontsize=7)
ax.invert_yaxis()
ax.set_xlabel("time ratio of medians (log scale; left of 1: gochan faster)")
ax.set_title(sys.argv[3], fontsize=8)
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
EOF
}
chart_gnuplot() { # out.png title
	awk -F'\t' '{g=$2=="-"?"NaN":$2; x=$3=="-"?"NaN":$3; printf "%d \"%s\" %s %s\n", NR-1, $1, g, x}' \
		"$BUILD/ratios.tsv" >"$BUILD/ratios.dat"
	gnuplot <<EOF
set terminal png size 900,$((22 * ncases + 160))
set output "$1"
set title "$2" noenhanced
set style data histograms
set style fill solid
set logscale y
set xtics rotate by -60 noenhanced font ",7"
set ylabel "gochan time / other (log; below 1: gochan faster)"
plot "$BUILD/ratios.dat" using 3:xtic(2) title "gochan/Go", "" using 4 title "gochan/crossbeam", 1 notitle lc rgb "black"
EOF
}
if [ "${BENCH_CHART:-1}" = 1 ]; then
	title="gochan time / other, medians of $ROUNDS interleaved rounds; $(sed -n 's/^date: *//p' "$BUILD/table.txt"), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs"
	# The first python3 that has matplotlib: PATH's (it may be a pyenv or
	# venv one), else Debian's, where python3-matplotlib installs it.
	mpl_python() {
		for py in python3 /usr/bin/python3; do
			if "$py" -c 'import matplotlib' 2>/dev/null; then echo "$py"; return 0; fi
		done
		return 1
	}
	if ! mpl_python >/dev/null && ! command -v gnuplot >/dev/null 2>&1; then
		apt_install python3-matplotlib || true
	fi
	if PY=$(mpl_python); then
		chart_py "$BUILD/chart.png" "$title" || log "WARNING: chart (matplotlib) failed"
	elif command -v gnuplot >/dev/null 2>&1; then
		chart_gnuplot "$BUILD/chart.png" "$title" || log "WARNING: chart (gnuplot) failed"
	else
		log "WARNING: no matplotlib and no gnuplot: no chart"
	fi
	if [ -s "$BUILD/chart.png" ]; then
		cp "$BUILD/chart.png" "$RESULTS/latest.png.$$" && mv -f "$RESULTS/latest.png.$$" "$RESULTS/latest.png"
		log "chart: bench/results/latest.png"
	fi
fi
# Publish whole files only (another run may be publishing too).
OUT=${BENCH_OUT:-$RESULTS/latest.txt}
mkdir -p "$(dirname "$OUT")"
cp "$BUILD/table.txt" "$OUT.$$" && mv -f "$OUT.$$" "$OUT"
log "table: $OUT"
RAW_OUT=$RESULTS/latest.raw
[ -z "${BENCH_OUT:-}" ] || RAW_OUT=${OUT%.txt}.raw
cp "$RAW" "$RAW_OUT.$$" && mv -f "$RAW_OUT.$$" "$RAW_OUT"
