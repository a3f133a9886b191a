#!/bin/sh
# fuzz/diff.sh - differential check of gochan against Go's own runtime.
#
#   fuzz/diff.sh [FILE|DIR...]     (default: fuzz/corpus/model fuzz/regressions/model)
#
# Runs every fuzz_model program through fuzz/diff_model (gochan, C; ASan+UBSan) and
# fuzz/go/replay.go (Go 1.19's runtime, via reflect.Select), each printing one
# canonical line per step, and compares the two outputs line by line.  Selects with
# several ready cases are compared on the set of ready cases (both sides then run the
# lowest-numbered one, see fuzz/fuzz_model.c).  Exit status 0 when identical.
set -eu
cd "$(dirname "$0")/.."
OUT=${FUZZ_OUT:-${TMPDIR:-/tmp}/gochan-fuzz}
mkdir -p "$OUT"
if [ $# -eq 0 ]; then
	set -- fuzz/corpus/model
	[ -d fuzz/regressions/model ] && set -- "$@" fuzz/regressions/model
fi
# shellcheck disable=SC2046
clang-14 -std=c11 -D_GNU_SOURCE -DFUZZ_MODEL_NO_MAIN -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -g -O1 -Iinclude -I. fuzz/diff_model.c fuzz/fuzz_model.c \
	$(scripts/lib-srcs.sh) \
	$(pkg-config --cflags --libs liburcu-cds) -pthread -o "$OUT/diff_model"
# A single file, standard library only: no go.mod needed (Go 1.19, offline).
(cd fuzz/go && go build -o "$OUT/replay_go" replay.go)
"$OUT/replay_go" "$@" >"$OUT/diff-go.txt"
c_ok=0
"$OUT/diff_model" "$@" >"$OUT/diff-c.txt" || c_ok=$?
inputs=$(grep -c '^== ' "$OUT/diff-go.txt" || true)
steps=$(grep -vc '^== ' "$OUT/diff-go.txt" || true)
selects=$(grep -c ' select ' "$OUT/diff-go.txt" || true)
multi=$(grep -c 'ready={[0-9]*,' "$OUT/diff-go.txt" || true)
if [ "$c_ok" -ne 0 ]; then
	echo "diff: the C side stopped (exit $c_ok): a divergence from the model; see above"
	exit 1
fi
if diff -u "$OUT/diff-go.txt" "$OUT/diff-c.txt" >"$OUT/diff.txt"; then
	echo "diff: $inputs inputs, $steps steps ($selects selects, $multi with several ready cases): gochan and Go agree"
else
	head -60 "$OUT/diff.txt"
	echo "diff: gochan and Go DISAGREE ($inputs inputs, $steps steps); full diff in $OUT/diff.txt"
	exit 1
fi
