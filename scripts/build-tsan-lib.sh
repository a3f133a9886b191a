#!/usr/bin/env bash
# scripts/build-tsan-lib.sh [OUT] - build libgochan-tsan.a: the library's
# sources compiled with YOUR C compiler ($CC, default cc) and
# -fsanitize=thread, for a program that is itself built with
# -fsanitize=thread.  Run it from the top of a gochan checkout (or the
# package's source tree); OUT defaults to ./libgochan-tsan.a.
#
# Why: ThreadSanitizer sees only the memory accesses of instrumented code.
# A TSan-built program linked against the ordinary libgochan sees its own
# accesses ordered by gochan's channel operations but not the library's
# atomics that order them, and reports races that are not there (a 20-line
# producer/consumer is enough).  Linked against this library, it sees both.
# Use the same compiler (and so the same TSan runtime) as for the program:
#
#     CC=gcc scripts/build-tsan-lib.sh /tmp/libgochan-tsan.a
#     gcc -fsanitize=thread -g -O1 app.c -Iinclude /tmp/libgochan-tsan.a -pthread
#
# `zig build tsan-consumer` (part of test-all) does exactly this with gcc and
# runs examples/consumer/consumer.c under TSan: any report fails it.
set -euo pipefail
out=${1:-libgochan-tsan.a}
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# liburcu's headers (its lists and macros only: nothing is linked from it).
urcu=$(pkg-config --cflags liburcu-cds 2>/dev/null || true)
objs=()
for src in $(scripts/lib-srcs.sh); do
	obj=$tmp/$(echo "$src" | tr / _).o
	# shellcheck disable=SC2086
	"$cc" -std=c11 -D_GNU_SOURCE -fno-strict-aliasing -pthread -fsanitize=thread -g -O1 \
		-Iinclude -I. $urcu -c "$src" -o "$obj"
	objs+=("$obj")
done
rm -f "$out"
ar rcs "$out" "${objs[@]}"
echo "build-tsan-lib: $out (${#objs[@]} objects, $cc -fsanitize=thread)"
