#!/usr/bin/env bash
# scripts/gdb/check-gdb-fibers.sh - test scripts/gdb/gochan-fibers.py for
# real: build libgochan with -g and two fiber examples, stop them under
# `gdb -batch` at a breakpoint, and check what `info fibers` and `fiber bt`
# print; then let each program run to its end (its output checked), which
# also shows that `fiber bt` put the thread's registers back.
#   1. examples/fiber_fanout.c with 10 fibers, stopped when all are parked
#      (its count_lines): 10 parked fibers, each in a receive called from
#      worker() at the chan_recv line; fiber 2's backtrace reaches worker().
#   2. examples/fiber_sieve.c up to 50, stopped in the filter of prime 7
#      (at 29): that fiber is listed running, sieve_main parked in its receive at the
#      chan_recv line; fiber 1's backtrace reaches sieve_main().
# Needs gdb (Debian's gdb; scripts/setup.sh --test installs it) on x86_64 or
# aarch64.  CC (default gcc) builds everything.  Exit status 0 when all passed.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 1
CC=${CC:-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   gdb-fibers: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL gdb-fibers: $*"; }

command -v gdb >/dev/null 2>&1 || { echo "FAIL gdb-fibers: no gdb (apt-get install gdb; scripts/setup.sh --test)"; exit 1; }

# ---- build: the library with -g (the script reads its structures by type)
mkdir -p "$tmp/obj"
for src in $(scripts/lib-srcs.sh); do
	$CC -std=c11 -D_GNU_SOURCE -Iinclude -I. -g -O1 -pthread -c "$src" -o "$tmp/obj/$(echo "$src" | tr / _).o" ||
		{ echo "FAIL gdb-fibers: $src does not compile"; exit 1; }
done
ar rcs "$tmp/libgochan.a" "$tmp"/obj/*.o
URCU=$(pkg-config --libs liburcu-cds 2>/dev/null || echo "-lurcu-cds -lurcu-common")
for ex in fiber_fanout fiber_sieve; do
	# shellcheck disable=SC2086
	$CC -std=c11 -D_GNU_SOURCE -Iinclude -g -O0 "examples/$ex.c" "$tmp/libgochan.a" $URCU -pthread \
		-o "$tmp/$ex" || { echo "FAIL gdb-fibers: examples/$ex.c does not build"; exit 1; }
done

# gdb_run OUT PROG ARGS... -- GDB-COMMANDS...: gdb -batch over PROG, the
# script loaded, the commands run in order; everything printed goes to OUT.
gdb_run() {
	local out=$1 prog=$2
	shift 2
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	local ex=()
	for c in "$@"; do ex+=(-ex "$c"); done
	timeout --kill-after=10 120 gdb -batch -nx -iex 'set debuginfod enabled off' \
		-ex 'set pagination off' -ex 'set confirm off' -x scripts/gdb/gochan-fibers.py \
		"${ex[@]}" --args "$prog" "${args[@]}" >"$out" 2>&1
}

# expect OUT REGEX WHAT: OUT has a line matching REGEX (grep -E).
expect() {
	if grep -Eq -- "$2" "$1"; then pass "$3"; else fail "$3 (no line matching: $2)"; fi
}

# ---- 1. fan-out: every fiber parked in a receive
line=$(grep -n 'chan_recv(t->f->release' examples/fiber_fanout.c | head -1 | cut -d: -f1)
gdb_run "$tmp/fanout.out" "$tmp/fiber_fanout" 10 -- 'break count_lines' run 'info fibers' \
	'echo ==== bt\n' 'fiber bt 2' 'delete' continue
expect "$tmp/fanout.out" '^10 fibers \(0 running, 0 runnable, 10 parked\)$' "fanout: 10 fibers, all parked"
n=$(grep -Ec "^ +[0-9]+  0x[0-9a-f]+ +parked +worker +recv chan 0x[0-9a-f]+, for [0-9.]+ s, called from worker at .*examples/fiber_fanout.c:$line\$" "$tmp/fanout.out")
[ "$n" = 10 ] && pass "fanout: each listed as parked in recv, called from worker at fiber_fanout.c:$line" ||
	fail "fanout: $n of 10 lines say parked in recv from worker at fiber_fanout.c:$line"
sed -n '/^==== bt$/,$p' "$tmp/fanout.out" >"$tmp/fanout.bt"
# (an inlined frame has no "0x... in": "#10 chan_recv (...")
expect "$tmp/fanout.bt" "^#[0-9]+ (.* )?chan_recv \(" "fanout: fiber 2's backtrace has chan_recv"
expect "$tmp/fanout.bt" "^#[0-9]+ .* worker \(.*examples/fiber_fanout.c:$line\$" "fanout: fiber 2's backtrace reaches worker() at fiber_fanout.c:$line"
expect "$tmp/fanout.out" '^sum after the release: 55$' "fanout: runs on to its end after fiber bt, the sum right"
expect "$tmp/fanout.out" 'exited normally' "fanout: exits normally"

# ---- 2. sieve: one fiber running, main's fiber parked
fline=$(grep -n 'i % f->prime != 0' examples/fiber_sieve.c | head -1 | cut -d: -f1)
mline=$(grep -n 'while (chan_recv(ch, &prime, &ok)' examples/fiber_sieve.c | head -1 | cut -d: -f1)
gdb_run "$tmp/sieve.out" "$tmp/fiber_sieve" 50 -- "break fiber_sieve.c:$fline if f->prime == 7 && i == 29" \
	run 'info fibers' 'echo ==== bt\n' 'fiber bt 1' 'delete' continue
expect "$tmp/sieve.out" '^[0-9]+ fibers \([1-9][0-9]* running, [0-9]+ runnable, [0-9]+ parked' "sieve: a fiber running"
expect "$tmp/sieve.out" '^ +[0-9]+  0x[0-9a-f]+ +running +filter +on thread [0-9]+$' "sieve: the running one is a filter, on its thread"
expect "$tmp/sieve.out" "^ +1  0x[0-9a-f]+ +parked +sieve_main +recv chan 0x[0-9a-f]+, for [0-9.]+ s, called from sieve_main at .*examples/fiber_sieve.c:$mline\$" \
	"sieve: fiber 1 (main's) parked in recv at fiber_sieve.c:$mline"
# (Runnable fibers are listed where the script knows the run queues.)
expect "$tmp/sieve.out" '^ +[0-9]+  0x[0-9a-f]+ +(parked|runnable|running) +generate |run queues unknown' "sieve: the generator listed"
sed -n '/^==== bt$/,$p' "$tmp/sieve.out" >"$tmp/sieve.bt"
expect "$tmp/sieve.bt" "^#[0-9]+ .* sieve_main \(.*examples/fiber_sieve.c:$mline\$" "sieve: fiber 1's backtrace reaches sieve_main() at fiber_sieve.c:$mline"
expect "$tmp/sieve.out" '^their sum: 328$' "sieve: runs on to its end after fiber bt, the sum right"
expect "$tmp/sieve.out" 'exited normally' "sieve: exits normally"

if [ "$failed" -ne 0 ]; then
	for f in fanout sieve; do
		echo "---- gdb's output ($f)"
		cat "$tmp/$f.out"
	done
fi
echo "gdb-fibers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
