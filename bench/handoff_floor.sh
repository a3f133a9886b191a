#!/usr/bin/env bash
# bench/handoff_floor.sh - the kernel's floor under an OS-thread hand-off,
# beside Go's goroutine hand-off and gochan's, idle and beside N busy
# processes, in one interleaved run (issue 21).
#
# bench/probe/handoff_floor.c passes a token between two threads with no
# channel at all (futex: sleep and wake every time; yield: sched_yield until
# it comes; spin: busy-wait).  Go's pingpong_c0 (bench/go/chan_bench.go) and
# gochan's (bench/chan_bench.c, threads) do the same round trip through two
# unbuffered channels.  A thread library cannot beat the best of the three
# floors; the table says how far that floor is from Go's.
#
#   ROUNDS=5 BENCH_LOAD=2 bench/handoff_floor.sh   # writes results/handoff-floor.txt
#
# HANDOFF_OUT names the output; HANDOFF_LIMIT_MS (default 3000) caps each
# run of a probe mode (a starving mode reports the rate it had by then).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
LOADN=${BENCH_LOAD:-$(nproc)}
OUT=${HANDOFF_OUT:-bench/results/handoff-floor.txt}
LIMIT=${HANDOFF_LIMIT_MS:-3000}
N=200000
BUILD=${TMPDIR:-/tmp}/gochan-handoff-floor
mkdir -p "$BUILD"
. bench/load.sh
trap 'load_stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

${CC:-gcc} -O2 -pthread bench/probe/handoff_floor.c -o "$BUILD/floor"
export GO111MODULE=off GOFLAGS= GOCACHE=${GOCACHE:-${TMPDIR:-/tmp}/gochan-bench-gocache}
(cd bench/go && go build -o "$BUILD/chan_go" chan_bench.go harness.go)
# bench/run.sh's own build of chan_bench (its C twin) with the same flags.
BENCH_BUILD_ONLY=1 BENCH_BUILD="$BUILD/run" bench/run.sh >/dev/null 2>&1 || true
CB=$(ls "$BUILD"/run/chan_bench 2>/dev/null || true)

raw=$BUILD/raw.txt
: >"$raw"
one() { # state impl
	local v
	case $2 in
	futex | yield | spin) v=$("$BUILD/floor" "$2" "$N" "$LIMIT" | sed -n 's/.*_rt_ns=\([^ ]*\).*/\1/p') ;;
	go) v=$("$BUILD/chan_go" pingpong_c0 "$N" | sed -n 's/.*ns_per_op=\([^ ]*\).*/\1/p') ;;
	gochan) if [ -n "$CB" ]; then v=$("$CB" pingpong_c0 "$N" | sed -n 's/.*ns_per_op=\([^ ]*\).*/\1/p'); else v=MISSING; fi ;;
	esac
	echo "$1 $2 ${v:-MISSING}" >>"$raw"
}
IMPLS="go gochan futex yield spin"
up_idle=$(uptime)
for ((r = 0; r < ROUNDS; r++)); do for i in $IMPLS; do one idle "$i"; done; done
load_start "$LOADN"
up_load=$(uptime)
for ((r = 0; r < ROUNDS; r++)); do for i in $IMPLS; do one loaded "$i"; done; done
load_stop
up_end=$(uptime)
{
	echo "bench/handoff_floor.sh: one round trip (two hand-offs) between two threads or goroutines, ns; median (min-max) of $ROUNDS interleaved rounds"
	echo "date:    $(date -u '+%F %H:%M') UTC"
	echo "command: ROUNDS=$ROUNDS BENCH_LOAD=$LOADN bench/handoff_floor.sh"
	echo "machine: $(nproc) CPUs (nproc), $(uname -sr)"
	echo "go:      $(go version)"
	echo "gochan:  commit $(git rev-parse --short HEAD)"
	echo "uptime before idle rounds:   $up_idle"
	echo "uptime before loaded rounds: $up_load  ($LOADN busy: bench/load.sh)"
	echo "uptime after:                $up_end"
	echo
	python3 - "$raw" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    st, impl, v = line.split()
    try: rows.setdefault((st, impl), []).append(float(v))
    except ValueError: pass
names = {"go": "Go pingpong_c0 (goroutines)", "gochan": "gochan pingpong_c0 (threads)",
         "futex": "floor: futex every hand-off", "yield": "floor: sched_yield until it comes",
         "spin": "floor: busy-wait"}
print(f"{'':34} {'idle':>24} {'loaded':>24} {'loaded/Go loaded':>17}")
go_l = statistics.median(rows.get(("loaded", "go"), [float("nan")]))
for impl in ["go", "gochan", "futex", "yield", "spin"]:
    cells = []
    for st in ["idle", "loaded"]:
        v = rows.get((st, impl), [])
        cells.append(f"{statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f})" if v else "MISSING")
    v = rows.get(("loaded", impl), [])
    ratio = f"{statistics.median(v) / go_l:.2f}" if v and go_l == go_l else "-"
    print(f"{names[impl]:34} {cells[0]:>24} {cells[1]:>24} {ratio:>17}")
PY
} | tee "$OUT"
