#!/usr/bin/env bash
# bench/run.sh - build the gochan benchmarks and their Go twins, run every case
# of both INTERLEAVED for several rounds, and print a table of medians.
#
#   bench/run.sh [REGEX...]     only cases whose name matches one of the REGEXes
#
# Environment:
#   ROUNDS=5          rounds per case (each round runs gochan and Go once;
#                     the order alternates between rounds)
#   QUICK=1           smoke test: 1 round and n divided by QUICK_DIV (20)
#   BENCH_PROCS=N     width of the "parallel" cases in both twins
#                     (default: the online CPU count, Go's GOMAXPROCS)
#   BENCH_TIMEOUT=120 seconds before one run is killed (reported as TIMEOUT)
#   BENCH_RUST=1      add a crossbeam-channel column (needs cargo and Debian's
#                     librust-crossbeam-channel-dev; bench/rust builds offline
#                     against it); off by default to keep a full run near 5 min
#   BENCH_BIN_DIR=dir use the C programs already built there instead of
#                     building them (`zig build bench` sets GOCHAN_BENCH_BIN,
#                     read as the same thing, to its bench-bin output)
#   CC, CFLAGS        C compiler and flags (default: python3 -m ziglang cc, -O3)
#   BENCH_BUILD=dir   build directory, kept afterwards (default: a fresh
#                     temporary directory per run, removed at exit)
#
# Writes the table to bench/results/latest.txt and the raw per-run lines to
# bench/results/latest.raw.  See bench/README.md for what the cases mean.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=${QUICK:-0}
QUICK_DIV=${QUICK_DIV:-20}
if [ "$QUICK" = 1 ]; then ROUNDS=${ROUNDS:-1}; else ROUNDS=${ROUNDS:-5}; fi
BENCH_TIMEOUT=${BENCH_TIMEOUT:-120}
RESULTS=$ROOT/bench/results
# Each run builds into its own directory: the checkout is shared, and two
# runs at once must not overwrite each other's programs, case list or data.
if [ -n "${BENCH_BUILD:-}" ]; then
	mkdir -p "$BENCH_BUILD"
	BUILD=$(cd "$BENCH_BUILD" && pwd)
else
	BUILD=$(mktemp -d "${TMPDIR:-/tmp}/gochan-bench.XXXXXX")
	trap 'rm -rf "$BUILD"' EXIT
fi
mkdir -p "$RESULTS"

log() { printf '%s\n' "$*" >&2; }

# ---- build the C programs (unless given) ----------------------------------
BENCH_BIN_DIR=${BENCH_BIN_DIR:-${GOCHAN_BENCH_BIN:-}} # build.zig sets GOCHAN_BENCH_BIN
if [ -n "$BENCH_BIN_DIR" ]; then
	CBIN=$BENCH_BIN_DIR
	CC_DESC="prebuilt in $CBIN"
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
	for src in chan/*.c select/*.c timer/*.c context/*.c diag/*.c poll/*.c group/*.c; do
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
	for src in bench/*.c; do
		fam=$(basename "$src" .c)
		log "building $fam"
		rm -f "$BUILD/$fam"
		# shellcheck disable=SC2086
		$CC $COMMON $CFLAGS "$src" "$BUILD/libgochan.a" $URCU -pthread -o "$BUILD/$fam" ||
			log "WARNING: $fam does not build; its cases are skipped"
	done
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
if [ "${BENCH_RUST:-0}" = 1 ] && command -v cargo >/dev/null 2>&1 &&
	compgen -G "/usr/share/cargo/registry/crossbeam-channel-*" >/dev/null; then
	log "building crossbeam-channel twins"
	RT=${CARGO_TARGET_DIR:-${TMPDIR:-/tmp}/gochan-bench-rust-target}
	if (cd bench/rust && CARGO_TARGET_DIR=$RT cargo build --release -q); then
		for src in bench/*.c; do
			fam=$(basename "$src" .c)
			[ -x "$RT/release/$fam" ] && cp "$RT/release/$fam" "$BUILD/${fam}_rs"
		done
		IMPLS="gochan go crossbeam"
		RUST_DESC="crossbeam-channel $(basename /usr/share/cargo/registry/crossbeam-channel-* |
			sed 's/crossbeam-channel-//') (Debian), $(rustc --version 2>/dev/null)"
	else
		log "WARNING: the crossbeam twins do not build; column left out"
	fi
fi

# ---- the case list: from each C program's --list --------------------------
# lines: family case n
CASES_FILE=$BUILD/cases.txt
: >"$CASES_FILE"
for src in bench/*.c; do
	fam=$(basename "$src" .c)
	[ -x "$CBIN/$fam" ] || { log "missing $CBIN/$fam, skipped"; continue; }
	"$CBIN/$fam" --list | while read -r name n; do
		if [ $# -gt 0 ]; then
			keep=0
			for re in "$@"; do [[ $name =~ $re ]] && keep=1; done
			[ $keep = 1 ] || continue
		fi
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

# ---- run, interleaved -------------------------------------------------------
# raw lines: case impl ns_per_op|FAIL|TIMEOUT n
RAW=$BUILD/raw.txt
: >"$RAW"
run_one() { # fam case n impl
	local fam=$1 name=$2 n=$3 impl=$4 bin out rc
	case $impl in
	gochan) bin=$CBIN/$fam ;;
	go) bin=$BUILD/${fam}_go ;;
	crossbeam) bin=$BUILD/${fam}_rs ;;
	esac
	if [ ! -x "$bin" ]; then echo "$name $impl MISSING $n" >>"$RAW"; return; fi
	set +e
	out=$(timeout -k 5 "$BENCH_TIMEOUT" "$bin" "$name" "$n" 2>&1)
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
	fi
	echo "$name $impl $ns $n" >>"$RAW"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
START=$(date +%s)
for r in $(seq 1 "$ROUNDS"); do
	log "round $r/$ROUNDS ($ncases cases)"
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
ELAPSED=$(($(date +%s) - START))

# ---- the table ----------------------------------------------------------------
CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
{
	echo "gochan vs Go: ns/op, median (min-max) of $ROUNDS interleaved rounds; ratios of medians (below 1: gochan faster)"
	echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "command: $([ "$QUICK" = 1 ] && echo "QUICK=1 ")ROUNDS=$ROUNDS bench/run.sh $*"
	echo "machine: $(nproc) CPUs (nproc), ${CPU:-unknown CPU}, $(uname -sr)"
	echo "parallel width (BENCH_PROCS): ${BENCH_PROCS:-$(nproc)}"
	echo "gochan:  $CC_DESC, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "go:      $GO_DESC"
	[ -z "$RUST_DESC" ] || echo "rust:    $RUST_DESC"
	echo "elapsed: ${ELAPSED}s; load average (1/5/15 min) at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
	echo
	python3 - "$CASES_FILE" "$RAW" <<'EOF'
import sys, statistics
cases = [l.split()[1] for l in open(sys.argv[1]) if l.strip()]
runs = {}
ns = {}
for l in open(sys.argv[2]):
    name, impl, val, n = l.split()
    runs.setdefault((name, impl), []).append(val)
    ns[name] = n
def fmt(x):
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
head = ["case", "n", "gochan ns/op", "Go ns/op", "gochan/Go"]
if xb:
    head += ["crossbeam ns/op", "gochan/xbeam"]
rows = [head]
def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"
for c in cases:
    mg, sg = summary(runs.get((c, "gochan"), []))
    mo, so = summary(runs.get((c, "go"), []))
    row = [c, ns.get(c, "-"), sg, so, ratio(mg, mo)]
    if xb:
        mx, sx = summary(runs.get((c, "crossbeam"), []))
        row += [sx, ratio(mg, mx)]
    rows.append(row)
w = [max(len(r[i]) for r in rows) for i in range(len(head))]
for i, r in enumerate(rows):
    print("  ".join(f"{v:<{w[j]}}" if j == 0 else f"{v:>{w[j]}}" for j, v in enumerate(r)))
    if i == 0:
        print("  ".join("-" * x for x in w))
EOF
} >"$BUILD/table.txt"
cat "$BUILD/table.txt"
# Publish whole files only (another run may be publishing too).
cp "$BUILD/table.txt" "$RESULTS/latest.txt.$$" && mv -f "$RESULTS/latest.txt.$$" "$RESULTS/latest.txt"
cp "$RAW" "$RESULTS/latest.raw.$$" && mv -f "$RESULTS/latest.raw.$$" "$RESULTS/latest.raw"
