#!/usr/bin/env bash
# scripts/check-version.sh VERSION VERSION_H GOCHAN_PC LIBGOCHAN_SO PRINT_VERSION
# `zig build version-check`: every place that states gochan's version agrees
# with VERSION (build.zig.zon's .version, passed by build.zig):
#   include/gochan/version.h   GOCHAN_VERSION, _MAJOR, _MINOR, _PATCH, _NUMBER
#   gochan_version()           of the shared library (scripts/print_version.c)
#   gochan.pc                  Version:
#   libgochan.so               SONAME libgochan.so.MAJOR
#   CHANGELOG.md               a "## [VERSION]" section
set -u
version=$1 header=$2 pc=$3 so=$4 prog=$5
IFS=. read -r major minor patch <<<"$version"
passed=0 failed=0
check() { # WHAT GOT WANT
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
		echo "ok   $1: $2"
	else
		failed=$((failed + 1))
		echo "FAIL $1: '$2', expected '$3'"
	fi
}
macro() { sed -n "s/^#define $1 \(.*\)\$/\1/p" "$header" | tr -d '"'; }
check "version.h GOCHAN_VERSION" "$(macro GOCHAN_VERSION)" "$version"
check "version.h GOCHAN_VERSION_MAJOR" "$(macro GOCHAN_VERSION_MAJOR)" "$major"
check "version.h GOCHAN_VERSION_MINOR" "$(macro GOCHAN_VERSION_MINOR)" "$minor"
check "version.h GOCHAN_VERSION_PATCH" "$(macro GOCHAN_VERSION_PATCH)" "$patch"
out=$("$prog") || { echo "FAIL $prog exited $?"; failed=$((failed + 1)); }
field() { sed -n "s/^$1 //p" <<<"$out"; }
check "gochan_version()" "$(field 'gochan_version()')" "$version"
check "GOCHAN_VERSION as compiled" "$(field GOCHAN_VERSION)" "$version"
check "GOCHAN_VERSION_MAJOR.MINOR.PATCH as compiled" "$(field GOCHAN_VERSION_MAJOR.MINOR.PATCH)" "$version"
check "GOCHAN_VERSION_NUMBER" "$(field GOCHAN_VERSION_NUMBER)" "$((major * 10000 + minor * 100 + patch))"
check "gochan.pc Version" "$(sed -n 's/^Version: //p' "$pc")" "$version"
check "libgochan.so SONAME" "$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')" "libgochan.so.$major"
check "libgochan.so file name" "$(basename "$so")" "libgochan.so.$version"
changelog="$(dirname "$0")/../CHANGELOG.md"
check "CHANGELOG.md section" "$(grep -c "^## \[$version\]" "$changelog")" "1"
echo "version-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
