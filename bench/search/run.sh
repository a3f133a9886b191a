#!/usr/bin/env bash
# bench/search/run.sh - gochan-search side by side with its Go twin, ripgrep,
# fd and find, in one interleaved run on one warm generated tree.
#
#   bash bench/search/run.sh
#
# What it does (self-contained; run from anywhere):
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
#   SEARCH_BENCH_OUT=bench/results/search-latest   output prefix: .md .png .raw.json
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ROUNDS=${ROUNDS:-5}
HANGUPS=${HANGUPS:-100}
BENCH_JOBS=${BENCH_JOBS:-$(nproc)}
GOCHAN_SEARCH_BIN=${GOCHAN_SEARCH_BIN:-zig-out/bin/gochan-search}
BENCH_TREE=${BENCH_TREE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/gochan-search-bench/tree}
OUT=${SEARCH_BENCH_OUT:-bench/results/search-latest}

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
plot_py >/dev/null || need+=(python3-matplotlib)
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
trap 'rm -rf "$LOGDIR"' EXIT
mkdir -p "$(dirname "$OUT")"
NICE=()
[ -z "${BENCH_NICE:-}" ] || NICE=(nice -n "$BENCH_NICE")
"${NICE[@]}" python3 bench/search/bench.py --tree "$BENCH_TREE" --go-bin "$ROOT/zig-out/bin/gochan-search-go" \
	"${C_ARGS[@]}" --jobs "$BENCH_JOBS" --rounds "$ROUNDS" --hangups "$HANGUPS" \
	--logdir "$LOGDIR" --out "$OUT.raw.json"
CMD="ROUNDS=$ROUNDS HANGUPS=$HANGUPS BENCH_JOBS=$BENCH_JOBS"
[ "$GOCHAN_SEARCH_BIN" = zig-out/bin/gochan-search ] || CMD+=" GOCHAN_SEARCH_BIN=$GOCHAN_SEARCH_BIN"
[ -z "${GOCHAN_SEARCH_EXTRA:-}" ] || CMD+=" GOCHAN_SEARCH_EXTRA=$GOCHAN_SEARCH_EXTRA"
[ -z "${SEARCH_BENCH_OUT:-}" ] || CMD+=" SEARCH_BENCH_OUT=$SEARCH_BENCH_OUT"
[ -z "${BENCH_NICE:-}" ] || CMD+=" BENCH_NICE=$BENCH_NICE"
CMD+=" bash bench/search/run.sh"
PLOT_PY=$(plot_py || echo python3)
"$PLOT_PY" bench/search/report.py "$OUT.raw.json" "$OUT.md" "$OUT.png" "$CMD"
echo "search-bench: wrote $OUT.md $OUT.png $OUT.raw.json"
