#!/usr/bin/env bash
# bench/search/run.sh - gochan-search side by side with its Go twin, ripgrep,
# fd and find, in one interleaved run on one warm tree: a real source tree
# unpacked from a Debian package (the default, for the published table), or
# the generated tree.
#
#   bash bench/search/run.sh                         # real tree: Go's sources
#   BENCH_SRC=linux bash bench/search/run.sh         # real tree: the kernel's
#   BENCH_CORPUS=generated bash bench/search/run.sh  # the generated tree
#
# Real mode (BENCH_CORPUS=real):
#   1. installs what is missing (ripgrep fd-find curl), builds the Go twin,
#   2. bench/search/real_tree.sh: apt-get download + dpkg-deb -x of
#      golang-1.19-src (~13,000 files, 120 MB) and/or linux-source-6.1
#      (~80,000 files, 1.3 GB) into BENCH_CACHE, once,
#   3. bench/search/real.py: content queries (a literal, a case-insensitive
#      literal, a regex with alternation, a character-class regex, a rare
#      word; services against rg) and name queries (*.go or *.c, a prefix
#      glob, a rare name; services and fd against find): one untimed round
#      that warms the cache and checks every tool's (file, line) or file set,
#      then ROUNDS interleaved timed rounds; writes OUT.txt (medians, min-max)
#      and OUT.raw (JSON). Publish only a table made on an idle machine
#      (BENCH_LOAD=N makes the loaded one on purpose).
#
# Generated mode (BENCH_CORPUS=generated):
#   1. installs what is missing (Debian: ripgrep fd-find python3-matplotlib
#      curl), builds the Go twin offline (search/go -> zig-out/bin/gochan-search-go),
#   2. generates the tree once (bench/search/gen_tree.py; reused afterwards),
#   3. bench/search/bench.py: a name search, a literal and two regex content
#      searches, ROUNDS interleaved rounds, every tool at the same thread count;
#      HANGUPS cancelled requests per service (hang-up -> last worker joined);
#      peak RSS,
#   4. bench/search/report.py: a markdown table and a PNG chart.
#
# Environment:
#   BENCH_CORPUS=real      real (default) or generated
#   BENCH_SRC=go           real mode: go, linux or both
#   BENCH_CACHE=~/.cache/gochan-search-bench   real mode: where the trees live
#   BENCH_LOAD=0           start N busy processes (stress-ng --cpu 1, else a
#                          shell loop) at normal priority for the run, stopped
#                          at its end (Ctrl-C included): the same table loaded
#   ROUNDS=5               timed rounds (each runs every case with every tool)
#   HANGUPS=100            cancelled requests per service
#   BENCH_JOBS=$(nproc)    threads: --workers and GOMAXPROCS, rg -j, fdfind -j
#   GOCHAN_SEARCH_BIN=zig-out/bin/gochan-search
#                          the C service; skipped, with a message, if not built
#   GOCHAN_SEARCH_BUILD    how that binary was built, for the report (e.g.
#                          "zig build search -Doptimize=ReleaseFast")
#   GOCHAN_SEARCH_EXTRA="NAME=PATH"  one more service of the same contract to
#                          run alongside (e.g. a variant build of gochan-search)
#   GOCHAN_SEARCH_EXTRA_BUILD  how that one was built, for the report
#   BENCH_NICE=N           run the whole measurement (services, client, every
#                          tool) under nice -n N (N < 0 needs root): on a shared
#                          machine, shows the figures without the others' load
#                          starving the threads; default: not niced
#   BENCH_TREE=~/.cache/gochan-search-bench/tree   where the tree lives
#   SEARCH_BENCH_OUT       output prefix: real mode bench/results/search-real
#                          (.txt .raw), generated mode
#                          bench/results/search-latest (.md .png .raw.json)
# The load average (uptime) is printed at the start and at the end; a table
# measured while the machine was busy says so.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ROUNDS=${ROUNDS:-5}
HANGUPS=${HANGUPS:-100}
BENCH_JOBS=${BENCH_JOBS:-$(nproc)}
GOCHAN_SEARCH_BIN=${GOCHAN_SEARCH_BIN:-zig-out/bin/gochan-search}
BENCH_TREE=${BENCH_TREE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/gochan-search-bench/tree}
BENCH_CORPUS=${BENCH_CORPUS:-real}
BENCH_SRC=${BENCH_SRC:-go}
BENCH_LOAD=${BENCH_LOAD:-0}
BENCH_CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/gochan-search-bench}
case $BENCH_CORPUS in
real) OUT=${SEARCH_BENCH_OUT:-bench/results/search-real} ;;
generated) OUT=${SEARCH_BENCH_OUT:-bench/results/search-latest} ;;
*) echo "search-bench: BENCH_CORPUS must be real or generated" >&2; exit 2 ;;
esac
case $BENCH_SRC in go | linux | both) ;; *) echo "search-bench: BENCH_SRC must be go, linux or both" >&2; exit 2 ;; esac
case $BENCH_LOAD in '' | *[!0-9]*) echo "search-bench: BENCH_LOAD must be a number" >&2; exit 2 ;; esac
echo "search-bench: start: $(uptime)"

# BENCH_LOAD busy processes, ours alone, stopped by pid on any exit.
LOAD_PIDS=()
LOGDIR=
cleanup() {
	local pid
	for pid in "${LOAD_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${LOAD_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	[ -z "$LOGDIR" ] || rm -rf "$LOGDIR"
	echo "search-bench: end: $(uptime)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_load() {
	local i
	for ((i = 0; i < BENCH_LOAD; i++)); do
		if command -v stress-ng >/dev/null; then
			stress-ng --cpu 1 --quiet &
		else
			sh -c 'while :; do :; done' &
		fi
		LOAD_PIDS+=($!)
	done
	[ "$BENCH_LOAD" = 0 ] || echo "search-bench: started $BENCH_LOAD busy processes (pids ${LOAD_PIDS[*]})"
}

# 1. tools
need=()
command -v rg >/dev/null || need+=(ripgrep)
command -v fdfind >/dev/null || need+=(fd-find)
command -v curl >/dev/null || need+=(curl)
# The chart needs matplotlib: Debian's, for /usr/bin/python3 (python3 on PATH
# may be another interpreter, e.g. pyenv's).
plot_py() {
	for py in python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null && "$py" -c 'import matplotlib' 2>/dev/null; then
			echo "$py"; return 0
		fi
	done
	return 1
}
[ "$BENCH_CORPUS" = real ] || plot_py >/dev/null || need+=(python3-matplotlib)
if [ ${#need[@]} -gt 0 ]; then
	echo "search-bench: installing ${need[*]}"
	if [ "$(id -u)" = 0 ]; then apt-get install -y "${need[@]}" >/dev/null
	else sudo apt-get install -y "${need[@]}" >/dev/null; fi
fi
for t in rg fdfind curl find go; do
	command -v "$t" >/dev/null || { echo "search-bench: $t is missing" >&2; exit 1; }
done

mkdir -p zig-out/bin
echo "search-bench: building the Go twin (offline, standard library only)"
(cd search/go && GOFLAGS=-mod=mod GOPROXY=off go build -o "$ROOT/zig-out/bin/gochan-search-go" .)

C_ARGS=()
if [ -x "$GOCHAN_SEARCH_BIN" ]; then
	C_ARGS=(--c-bin "$(cd "$(dirname "$GOCHAN_SEARCH_BIN")" && pwd)/$(basename "$GOCHAN_SEARCH_BIN")")
else
	echo "search-bench: SKIPPING gochan-search: $GOCHAN_SEARCH_BIN is not built" \
		"(python3 -m ziglang build search, or set GOCHAN_SEARCH_BIN); the Go twin and the CLI tools still run"
fi

if [ -n "${GOCHAN_SEARCH_EXTRA:-}" ]; then
	C_ARGS+=(--extra "$GOCHAN_SEARCH_EXTRA")
fi

# Real mode: the trees, then real.py, and done.
if [ "$BENCH_CORPUS" = real ]; then
	TREES=()
	for key in go linux; do
		[ "$BENCH_SRC" = "$key" ] || [ "$BENCH_SRC" = both ] || continue
		dir=$(bash bench/search/real_tree.sh "$key" "$BENCH_CACHE")
		# The label: the package and version (the cache directory's name).
		label=$(grep -o '\(golang-1\.19-src\|linux-source-6\.1\)-[^/]*' <<<"$dir" | tail -n 1)
		TREES+=(--tree "$key=$dir=${label:-$key}")
	done
	LOGDIR=$(mktemp -d)
	CMD="BENCH_SRC=$BENCH_SRC ROUNDS=$ROUNDS BENCH_JOBS=$BENCH_JOBS"
	[ "$BENCH_LOAD" = 0 ] || CMD+=" BENCH_LOAD=$BENCH_LOAD"
	[ -z "${BENCH_NICE:-}" ] || CMD+=" BENCH_NICE=$BENCH_NICE"
	[ "$GOCHAN_SEARCH_BIN" = zig-out/bin/gochan-search ] || CMD+=" GOCHAN_SEARCH_BIN=$GOCHAN_SEARCH_BIN"
	[ -z "${SEARCH_BENCH_OUT:-}" ] || CMD+=" SEARCH_BENCH_OUT=$SEARCH_BENCH_OUT"
	CMD+=" bash bench/search/run.sh"
	NICE=()
	[ -z "${BENCH_NICE:-}" ] || NICE=(nice -n "$BENCH_NICE")
	start_load
	export BENCH_LOAD
	"${NICE[@]}" python3 bench/search/real.py "${TREES[@]}" --go-bin "$ROOT/zig-out/bin/gochan-search-go" \
		"${C_ARGS[@]}" --jobs "$BENCH_JOBS" --rounds "$ROUNDS" --logdir "$LOGDIR" --out "$OUT" --command "$CMD"
	echo "search-bench: wrote $OUT.txt $OUT.raw"
	exit 0
fi

# 2. the tree, made once
VERSION=$(python3 -c 'import sys; sys.path.insert(0, "bench/search"); import gen_tree; print(gen_tree.VERSION)')
if [ "$(cat "$BENCH_TREE/.complete" 2>/dev/null)" != "$VERSION" ]; then
	echo "search-bench: generating the tree in $BENCH_TREE (once; ~400 MB, ~30 s)"
	rm -rf "$BENCH_TREE"
	mkdir -p "$(dirname "$BENCH_TREE")"
	python3 bench/search/gen_tree.py "$BENCH_TREE"
else
	echo "search-bench: reusing the tree in $BENCH_TREE"
fi

# 3 and 4.
LOGDIR=$(mktemp -d)
mkdir -p "$(dirname "$OUT")"
NICE=()
[ -z "${BENCH_NICE:-}" ] || NICE=(nice -n "$BENCH_NICE")
start_load
export BENCH_LOAD
"${NICE[@]}" python3 bench/search/bench.py --tree "$BENCH_TREE" --go-bin "$ROOT/zig-out/bin/gochan-search-go" \
	"${C_ARGS[@]}" --jobs "$BENCH_JOBS" --rounds "$ROUNDS" --hangups "$HANGUPS" \
	--logdir "$LOGDIR" --out "$OUT.raw.json"
CMD="BENCH_CORPUS=generated ROUNDS=$ROUNDS HANGUPS=$HANGUPS BENCH_JOBS=$BENCH_JOBS"
[ "$BENCH_LOAD" = 0 ] || CMD+=" BENCH_LOAD=$BENCH_LOAD"
[ "$GOCHAN_SEARCH_BIN" = zig-out/bin/gochan-search ] || CMD+=" GOCHAN_SEARCH_BIN=$GOCHAN_SEARCH_BIN"
[ -z "${GOCHAN_SEARCH_EXTRA:-}" ] || CMD+=" GOCHAN_SEARCH_EXTRA=$GOCHAN_SEARCH_EXTRA"
[ -z "${SEARCH_BENCH_OUT:-}" ] || CMD+=" SEARCH_BENCH_OUT=$SEARCH_BENCH_OUT"
[ -z "${BENCH_NICE:-}" ] || CMD+=" BENCH_NICE=$BENCH_NICE"
CMD+=" bash bench/search/run.sh"
PLOT_PY=$(plot_py || echo python3)
"$PLOT_PY" bench/search/report.py "$OUT.raw.json" "$OUT.md" "$OUT.png" "$CMD"
echo "search-bench: wrote $OUT.md $OUT.png $OUT.raw.json"
