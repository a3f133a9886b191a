#!/usr/bin/env bash
# scripts/lib-srcs.sh [ROOT] - print the library's C sources, one per line:
# every *.c of the folders named in ROOT/build.zig's lib_dirs (ROOT: default
# the current directory).  The one list of the library's folders is
# build.zig's lib_dirs; every script that compiles the library by hand
# (bench, fuzz, the TSan library) asks this one.
root=${1:-.}
dirs=$(sed -n 's/^const lib_dirs = \[_\]\[\]const u8{\(.*\)};/\1/p' "$root/build.zig" | tr ',' '\n' | tr -d '" ')
[ -n "$dirs" ] || { echo "lib-srcs.sh: lib_dirs not found in $root/build.zig" >&2; exit 1; }
for d in $dirs; do
	for f in "$root/$d"/*.c; do
		[ -e "$f" ] && echo "${f#./}"
	done
done
exit 0
