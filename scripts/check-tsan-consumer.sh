#!/usr/bin/env bash
# scripts/check-tsan-consumer.sh - `zig build tsan-consumer`: what a user who
# builds with gcc -fsanitize=thread does (scripts/build-tsan-lib.sh, then
# link against libgochan-tsan.a), with examples/consumer/consumer.c (a
# producer/consumer over a buffered channel, a timer select, the leak
# check).  It runs several times under TSAN_OPTIONS=halt_on_error=1: any
# report fails.  (Against the uninstrumented libgochan.a the same program
# gets race reports that are not races: TSan cannot see the library's
# atomics.  README.md, "Sanitizers".)
set -euo pipefail
cc=${CC:-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CC=$cc bash scripts/build-tsan-lib.sh "$tmp/libgochan-tsan.a"
"$cc" -std=c11 -Wall -Wextra -Werror -fsanitize=thread -g -O1 examples/consumer/consumer.c \
	-Iinclude "$tmp/libgochan-tsan.a" -pthread -o "$tmp/consumer"
for i in 1 2 3 4 5; do
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$tmp/consumer" >"$tmp/out" 2>&1 || {
		cat "$tmp/out" >&2
		echo "tsan-consumer: run $i: ThreadSanitizer reported (or the consumer failed)" >&2
		exit 1
	}
done
echo "tsan-consumer: 5 runs clean: $(cat "$tmp/out")"
