#!/usr/bin/env bash
# scripts/check-example.sh NAME PROGRAM - run one example program (built from
# examples/NAME.c, as C or as C++) and check what it prints.
#   - examples/expected/NAME.txt, if present, is the exact expected output
#     (stdout; for programs whose threads print in any order, compared after
#     sorting when examples/expected/NAME.sorted exists);
#   - some examples need arguments or a finer check: see the case below.
# Prints "NAME: N passed, N failed" last; exit status 0 when all passed.
set -u
name=$1 prog=$2
here=$(cd "$(dirname "$0")/.." && pwd)
expected="$here/examples/expected/$name.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $name: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $name: $*"; }

# run ARGS...: the program's stdout into $tmp/out; a non-zero exit is a failure.
run() {
	if "$prog" "$@" >"$tmp/out"; then
		pass "exit 0 ($*)"
	else
		fail "exit $? ($*)"
	fi
}

# same_as FILE: $tmp/out equals FILE (sorted first with .sorted).
same_as() {
	local want=$1 got="$tmp/out"
	if [ -e "${want%.txt}.sorted" ]; then
		sort "$got" >"$tmp/got.sorted"
		sort "$want" >"$tmp/want.sorted"
		got="$tmp/got.sorted" want="$tmp/want.sorted"
	fi
	if diff -u "$want" "$got" >"$tmp/diff"; then
		pass "output as expected"
	else
		fail "output differs:"
		cat "$tmp/diff"
	fi
}

case $name in
md5_tree)
	# The Go blog's md5-of-a-tree program, in its three forms, over a
	# directory of this repository; each must print what md5sum prints.
	tree="$here/tests"
	(cd "$tree/.." && find "$(basename "$tree")" -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$tmp/want"
	for mode in serial parallel bounded; do
		(cd "$tree/.." && "$prog" "$mode" "$(basename "$tree")") >"$tmp/out" ||
			{ fail "$mode: exit $?"; continue; }
		if diff -u "$tmp/want" "$tmp/out" >"$tmp/diff"; then
			pass "$mode: $(wc -l <"$tmp/out") files, same digests as md5sum"
		else
			fail "$mode: differs from md5sum:"
			cat "$tmp/diff"
		fi
	done
	;;
*)
	run
	if [ -e "$expected" ]; then
		same_as "$expected"
	fi
	;;
esac
echo "$name: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
