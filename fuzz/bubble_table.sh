#!/bin/sh
# fuzz/bubble_table.sh - the fuzzer's column of issue 19's table: for each bug
# of tests/bugs/, how many executions fuzz/fuzz_bubble.c (libFuzzer, the input
# as the bubble's decisions, switch points and time jumps on) needs to expose
# it, from an empty corpus, with -seed=1..RUNS; the median and every run.
#
#   fuzz/bubble_table.sh [RUNS] [BUG...]     (default 5 runs, every bug)
#
# Environment: FUZZ_OUT (default ${TMPDIR:-/tmp}/gochan-fuzz), MAX_RUNS (the
# cap on executions per fuzz run, default 200000: "none" when not found).
# Compare with the seeds `bugs explore` needs (docs/testing-concurrent-code.md).
set -eu
cd "$(dirname "$0")/.."

RUNS=${1:-5}
[ $# -gt 0 ] && shift
OUT=${FUZZ_OUT:-${TMPDIR:-/tmp}/gochan-fuzz}
MAX=${MAX_RUNS:-200000}
mkdir -p "$OUT"
BUG_SRCS=$(ls tests/bugs/*.c | grep -v '/run\.c$')
if [ $# -gt 0 ]; then
	BUGS="$*"
else
	BUGS=$(sed -n 's/^\t{"\([a-z_0-9]*\)",.*/\1/p' tests/bugs/catalogue.c)
fi
# shellcheck disable=SC2086
clang-14 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -g -O1 -Iinclude -I. fuzz/fuzz_bubble.c $BUG_SRCS \
	$(scripts/lib-srcs.sh) $(pkg-config --cflags --libs liburcu-cds) -pthread \
	-o "$OUT/fuzz_bubble"

echo "| bug | fuzz executions to find it (median) | runs (-seed=1..$RUNS) |"
echo "|---|---|---|"
for bug in $BUGS; do
	all=""
	for s in $(seq 1 "$RUNS"); do
		work=$(mktemp -d "$OUT/bubble-table.XXXXXX")
		n=$(FUZZ_BUG=$bug FUZZ_BUGGY=1 "$OUT/fuzz_bubble" -seed="$s" -runs="$MAX" \
			-print_final_stats=1 -artifact_prefix="$work/" "$work" 2>&1 |
			sed -n 's/^stat::number_of_executed_units: *//p' | tail -1)
		if ls "$work"/crash-* >/dev/null 2>&1; then
			all="$all ${n:-?}"
		else
			all="$all none"
		fi
		rm -rf "$work"
	done
	med=$(echo "$all" | tr ' ' '\n' | grep -v '^$' | sed 's/^none$/999999999/' | sort -n |
		awk '{v[NR]=$1} END {m=v[int((NR+1)/2)]; print (m==999999999 ? "none" : m)}')
	echo "| $bug | $med |$all |"
done
