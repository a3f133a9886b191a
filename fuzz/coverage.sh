#!/bin/sh
# fuzz/coverage.sh - line coverage of the library reached by the fuzz corpora.
#
#   fuzz/coverage.sh [HARNESS...]        (default: every fuzz/fuzz_*.c)
#
# Builds each harness with replay_main.c and clang-14's source-based coverage
# (-fprofile-instr-generate -fcoverage-mapping, no sanitizers), replays
# fuzz/corpus/<name>/ and fuzz/regressions/<name>/, merges the profiles with
# llvm-profdata-14 and prints llvm-cov-14's per-file report for chan/, select/,
# timer/ and context/, per harness and for all of them together.
set -eu
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
	HARNESSES="$*"
else
	HARNESSES=$(ls fuzz/fuzz_*.c | sed 's|fuzz/fuzz_||; s|\.c$||')
fi
OUT=${FUZZ_OUT:-${TMPDIR:-/tmp}/gochan-fuzz}/coverage
rm -rf "$OUT"
mkdir -p "$OUT"
LIB=$(scripts/lib-srcs.sh)
objs=""
for h in $HARNESSES; do
	# shellcheck disable=SC2086
	clang-14 -std=c11 -D_GNU_SOURCE -O1 -g -fprofile-instr-generate -fcoverage-mapping -Iinclude -I. \
		fuzz/replay_main.c "fuzz/fuzz_$h.c" $LIB $(pkg-config --cflags --libs liburcu-cds) -pthread \
		-o "$OUT/replay-$h"
	mkdir -p "$OUT/raw-$h"
	# %p: one profile per forked child; merged below.
	LLVM_PROFILE_FILE="$OUT/raw-$h/%p.profraw" "$OUT/replay-$h" "fuzz/corpus/$h" "fuzz/regressions/$h" >"$OUT/replay-$h.log" 2>&1 || true
	tail -1 "$OUT/replay-$h.log" | sed "s/^/replay $h: /"
	llvm-profdata-14 merge -sparse "$OUT/raw-$h"/*.profraw -o "$OUT/$h.profdata"
	echo "== coverage of the library by corpus/$h"
	# shellcheck disable=SC2086
	llvm-cov-14 report "$OUT/replay-$h" -instr-profile="$OUT/$h.profdata" $LIB | sed 's/^/  /'
	objs="$objs $h"
done
llvm-profdata-14 merge -sparse "$OUT"/*.profdata -o "$OUT/all.profdata"
first=""
more=""
for h in $objs; do
	if [ -z "$first" ]; then first="$OUT/replay-$h"; else more="$more -object $OUT/replay-$h"; fi
done
echo "== coverage of the library by all corpora together"
# shellcheck disable=SC2086
llvm-cov-14 report "$first" $more -instr-profile="$OUT/all.profdata" $LIB | sed 's/^/  /'
echo "(html: llvm-cov-14 show $first$more -instr-profile=$OUT/all.profdata -format=html -output-dir=$OUT/html)"
