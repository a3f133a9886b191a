#!/bin/sh
# fuzz/run.sh - build every libFuzzer harness (ASan + UBSan) and fuzz each one.
#
#   fuzz/run.sh [SECONDS] [HARNESS...]      (default: 180 s each, every fuzz/fuzz_*.c)
#   MERGE=1 fuzz/run.sh 600 model           also merge new interesting inputs into
#                                           fuzz/corpus/<name>/ (minimised with -merge=1)
#
# Environment: FUZZ_OUT (build and work directory, default ${TMPDIR:-/tmp}/gochan-fuzz),
# FUZZ_FLAGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2" or "-use_value_profile=1").
# Each harness runs over a scratch copy of its corpus (so the repository only changes with
# MERGE=1) plus fuzz/regressions/<name>/.  A crash leaves its input in
# $FUZZ_OUT/artifacts-<name>/; add it to fuzz/regressions/<name>/ and a unit test in
# tests/test_fuzz_regress.c.  The exit status is non-zero if any harness failed.
set -eu
cd "$(dirname "$0")/.."

SECS=${1:-180}
[ $# -gt 0 ] && shift
if [ $# -gt 0 ]; then
	HARNESSES="$*"
else
	HARNESSES=$(ls fuzz/fuzz_*.c | sed 's|fuzz/fuzz_||; s|\.c$||')
fi
OUT=${FUZZ_OUT:-${TMPDIR:-/tmp}/gochan-fuzz}
mkdir -p "$OUT"
LIB=$(scripts/lib-srcs.sh)
CFLAGS="-std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1 -Iinclude -I."

# Sources a harness needs besides the library: fuzz_bubble runs the bug
# catalogue (tests/bugs/ without its runner's main).
extra_srcs() {
	case $1 in
	bubble) ls tests/bugs/*.c | grep -v '/run\.c$' ;;
	esac
}

status=0
summary=""
for h in $HARNESSES; do
	echo "== build fuzz_$h"
	# shellcheck disable=SC2086
	clang-14 $CFLAGS "fuzz/fuzz_$h.c" $(extra_srcs "$h") $LIB $(pkg-config --cflags --libs liburcu-cds) -pthread \
		-o "$OUT/fuzz_$h"
	work="$OUT/corpus-$h"
	mkdir -p "$work" "$OUT/artifacts-$h"
	[ -d "fuzz/corpus/$h" ] && cp -n "fuzz/corpus/$h"/* "$work"/ 2>/dev/null || true
	seeds=""
	[ -d "fuzz/regressions/$h" ] && seeds="fuzz/regressions/$h"
	echo "== fuzz fuzz_$h for ${SECS}s"
	log="$OUT/fuzz_$h.log"
	# -timeout: an input running 10 s is a hang (fuzz_concurrent's own watchdog is 5 s).
	# shellcheck disable=SC2086
	if "$OUT/fuzz_$h" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts-$h/" ${FUZZ_FLAGS:-} "$work" $seeds >"$log" 2>&1; then
		res=ok
	else
		res="FAILED (see $log and $OUT/artifacts-$h/)"
		status=1
		tail -40 "$log"
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	line="fuzz_$h: ${SECS}s, ${execs:-?} execs, ${rate:-?} exec/s, ${cov:-cov: ?}, $res"
	echo "$line"
	summary="$summary$line
"
	if [ "${MERGE:-0}" = 1 ]; then
		mkdir -p "fuzz/corpus/$h"
		"$OUT/fuzz_$h" -merge=1 -timeout=10 "fuzz/corpus/$h" "$work" >>"$log" 2>&1
		echo "   merged: $(ls "fuzz/corpus/$h" | wc -l) inputs in fuzz/corpus/$h"
	fi
done
printf '\n%s' "$summary"
exit $status
