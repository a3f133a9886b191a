#!/usr/bin/env bash
# bench/ab.sh - A/B of one benchmark family between a git revision (A) and
# the working tree (B): both built the same way (run.sh's compiler and
# flags), then run INTERLEAVED, alternating which goes first each round, and
# summarised per case as median (min-max) ns/op and the ratio of medians B/A.
#
#   bench/ab.sh REV [FAMILY [REGEX]]
#       REV     the baseline commit (e.g. HEAD~1, main)
#       FAMILY  bench/<FAMILY>.c (default chan_bench)
#       REGEX   only cases matching it (default: every case of the family)
#
# Environment: ROUNDS (default 11), N_DIV (divide each case's n, default 1),
# CC / CFLAGS (default python3 -m ziglang cc, -O3 -DNDEBUG).
# Used for the diagnostics overhead of a parked operation (issue 8: at most
# 2% on ping-pong and producer/consumer).
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/ab.sh REV [FAMILY [REGEX]]}
FAM=${2:-chan_bench}
RE=${3:-.}
ROUNDS=${ROUNDS:-11}
N_DIV=${N_DIV:-1}
CC=${CC:-python3 -m ziglang cc}
CFLAGS=${CFLAGS:--O3 -DNDEBUG}
URCU=$(pkg-config --cflags --libs liburcu-cds 2>/dev/null || echo "-lurcu-cds -lurcu-common")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gochan-ab.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

build() { # $1: source tree, $2: output binary
	local objs=() src obj
	mkdir -p "$TMP/obj-$(basename "$2")"
	# The library's folders: the one list (build.zig's lib_dirs) through
	# scripts/lib-srcs.sh, read from the tree being built (a revision
	# older than the script has its own list).
	while read -r src; do
		obj="$TMP/obj-$(basename "$2")/$(echo "${src#"$1"/}" | tr / _).o"
		# shellcheck disable=SC2086
		$CC -std=c11 -D_GNU_SOURCE -I"$1/include" -I"$1" $CFLAGS -c "$src" -o "$obj"
		objs+=("$obj")
	done < <(bash "$PWD/scripts/lib-srcs.sh" "$1")
	ar rcs "$2.a" "${objs[@]}"
	# shellcheck disable=SC2086
	$CC -std=c11 -D_GNU_SOURCE -I"$1/include" -I"$1" $CFLAGS "$1/bench/$FAM.c" "$2.a" $URCU \
		-pthread -lm -o "$2"
}

mkdir -p "$TMP/a-src"
git archive "$REV" | tar -x -C "$TMP/a-src"
echo "building A ($REV = $(git rev-parse --short "$REV")) and B (working tree)" >&2
build "$TMP/a-src" "$TMP/A"
build "$PWD" "$TMP/B"

: >"$TMP/raw"
mapfile -t CASES < <("$TMP/A" --list | awk -v re="$RE" '$1 ~ re')
for ((r = 0; r < ROUNDS; r++)); do
	for line in "${CASES[@]}"; do
		read -r name n <<<"$line"
		n=$((n / N_DIV))
		if ((r % 2 == 0)); then order="A B"; else order="B A"; fi
		for w in $order; do
			v=$("$TMP/$w" "$name" "$n" | sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p')
			echo "$name $w $v" >>"$TMP/raw"
		done
	done
	echo "round $((r + 1))/$ROUNDS done" >&2
done

echo "bench/ab.sh $REV $FAM '$RE': $ROUNDS interleaved rounds, $(nproc) CPUs, $CC $CFLAGS"
python3 - "$TMP/raw" <<'PY'
import sys, statistics, collections
d = collections.defaultdict(lambda: collections.defaultdict(list))
order = []
for line in open(sys.argv[1]):
    name, w, v = line.split()
    if name not in order:
        order.append(name)
    d[name][w].append(float(v))
print(f"{'case':<18} {'A ns/op median (min-max)':>28} {'B ns/op median (min-max)':>28} {'B/A':>6}")
for name in order:
    a, b = d[name]['A'], d[name]['B']
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{name:<18} {ma:>10.1f} ({min(a):.1f}-{max(a):.1f}){'':>4} {mb:>10.1f} ({min(b):.1f}-{max(b):.1f}){'':>4} {mb/ma:>6.3f}")
PY
