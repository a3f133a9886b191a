#!/bin/sh
# fuzz/chaos_demo.sh - show chaos mode finding the race in examples/chaos_race.c.
#   fuzz/chaos_demo.sh [ROUNDS] [SEEDS]     (defaults: 50 rounds per run, 20 seeds)
# Runs the example SEEDS times without chaos and once per seed 1..SEEDS with
# GOCHAN_CHAOS=<seed>, and prints how many runs saw the race.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-50}
SEEDS=${2:-20}
OUT=${FUZZ_OUT:-${TMPDIR:-/tmp}/gochan-fuzz}
mkdir -p "$OUT"
# shellcheck disable=SC2046
gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -Iinclude -I. examples/chaos_race.c \
	$(scripts/lib-srcs.sh) \
	$(pkg-config --cflags --libs liburcu-cds) -pthread -o "$OUT/chaos_race"
plain=0
chaos=0
i=1
while [ "$i" -le "$SEEDS" ]; do
	"$OUT/chaos_race" "$ROUNDS" >/dev/null || plain=$((plain + 1))
	if r=$(GOCHAN_CHAOS=$i "$OUT/chaos_race" "$ROUNDS" 2>/dev/null); then :; else chaos=$((chaos + 1)); fi
	echo "seed $i: $r"
	i=$((i + 1))
done
echo "without chaos: race found in $plain of $SEEDS runs ($ROUNDS rounds each)"
echo "GOCHAN_CHAOS=1..$SEEDS: race found in $chaos of $SEEDS runs ($ROUNDS rounds each)"
