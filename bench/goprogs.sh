#!/usr/bin/env bash
# bench/goprogs.sh - the whole-program ports (bench/goprogs.c: Go's test/chan
# doubleselect, sieve, powser1, runtime's TestMultiConsumer, crossbeam's
# mpsc stress tests) on gochan, on the naive channel and in Go, interleaved
# round by round, first idle and then beside a fixed load, in one invocation
# (issue 21).  Seconds per whole run, median (min-max).
#
#   bench/goprogs.sh [REGEX...]    only the cases matching (default: all six)
#
# Environment (and every knob of bench/run.sh, which does the work):
#   BENCH_LOAD=N   busy processes for the loaded half (default: nproc, every
#                  core taken)
#   ROUNDS=5       rounds per half
#   GOPROGS_OUT=bench/results   where goprogs-idle.txt and goprogs-loaded.txt go
#
# Both halves use the same programs (built once).  The loaded half starts
# its load after the idle half has ended and stops it on any exit.
set -euo pipefail

cd "$(dirname "$0")/.."
LOAD=${BENCH_LOAD:-$(nproc)}
OUTDIR=${GOPROGS_OUT:-bench/results}
mkdir -p "$OUTDIR"
BUILD=$(mktemp -d "${TMPDIR:-/tmp}/gochan-goprogs.XXXXXX")
trap 'rm -rf "$BUILD"' EXIT
[ $# -gt 0 ] || set -- goprogs

# No crossbeam twin for these programs; seconds, not ns/op; no chart.
export BENCH_RUST=0 BENCH_CHART=0 BENCH_UNIT=s BENCH_NAIVE=1
BENCH_BUILD=$BUILD BENCH_LOAD=0 BENCH_OUT=$OUTDIR/goprogs-idle.txt bench/run.sh "$@"
echo
# The loaded half's header names the compiler the idle half built with.
BENCH_CC_DESC="$(sed -n 's/^gochan:  \(.*\), commit .*/\1/p' "$OUTDIR/goprogs-idle.txt") (built for the idle half)"
export BENCH_CC_DESC
BENCH_BUILD=$BUILD BENCH_BIN_DIR=$BUILD BENCH_LOAD=$LOAD BENCH_OUT=$OUTDIR/goprogs-loaded.txt \
	bench/run.sh "$@"
