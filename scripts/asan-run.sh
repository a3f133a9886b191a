#!/usr/bin/env bash
# scripts/asan-run.sh PROGRAM [ARGS...] - run a program built with
# -fsanitize=address,undefined (zig build asan / fuzz-replay) and fail if it,
# or any process it started, reported an error.
#
# Why a wrapper: Criterion runs each test in a worker process, and a worker's
# LeakSanitizer report comes at its exit, after the test's result was sent, so
# Criterion still counts the test as passed and exits 0.  Every sanitizer
# report is therefore written to a fresh directory (log_path) and this script
# prints them and fails when there are any.
set -uo pipefail
shopt -s nullglob

if [ $# -lt 1 ]; then
	echo "usage: $0 PROGRAM [ARGS...]" >&2
	exit 2
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/gochan-asan.XXXXXX") || exit 2
trap 'rm -rf "$logdir"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$logdir/report"

"$@"
rc=$?

# Warnings (e.g. "failed to allocate", when a test asks for an absurd size on
# purpose) are shown but only errors fail the run.
errors=0
for r in "$logdir"/report*; do
	echo "---- sanitizer output ($(basename "$r")) ----" >&2
	cat "$r" >&2
	if grep -qE '(ERROR|SUMMARY): |runtime error:' "$r"; then
		errors=$((errors + 1))
	fi
done
if [ "$errors" -gt 0 ]; then
	echo "asan-run: $errors sanitizer error report(s) from $(basename "$1")" >&2
	[ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
