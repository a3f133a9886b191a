#!/usr/bin/env bash
# scripts/check-install.sh ZIG BUILD_FILE CACHE_DIR [GLOBAL_CACHE_DIR] -
# `zig build install-check`: install gochan as a distribution would (staged
# with DESTDIR, a --prefix and a multiarch --prefix-lib-dir), then build and
# run examples/consumer/consumer.c against the staged tree:
#   1. pkg-config, shared: no Requires (works with no other .pc file
#      reachable), the binary NEEDs libgochan.so.0 and runs through an rpath;
#   2. pkg-config, static libgochan (-l:libgochan.a + --static's flags): no
#      libgochan NEEDED;
#   3. pkg-config --static with -static: a fully static executable;
#   4. CMake find_package(gochan) -> gochan::gochan (shared), and with
#      GOCHAN_STATIC=ON (static);
#   5. `zig build uninstall` (same options) leaves no file in the stage.
set -euo pipefail
zig=$1 build_file=$2 cache=$3 gcache=${4:-}
src=$(cd "$(dirname "$build_file")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage prefix=/opt/gochan-check libdir_rel=lib/x86_64-linux-gnu
args=(--build-file "$build_file" --cache-dir "$cache" --prefix "$prefix" --prefix-lib-dir "$libdir_rel")
[ -n "$gcache" ] && args+=(--global-cache-dir "$gcache")

echo "install-check: DESTDIR=$stage zig build install --prefix $prefix --prefix-lib-dir $libdir_rel"
DESTDIR=$stage "$zig" build install "${args[@]}"
root=$stage$prefix
libdir=$root/$libdir_rel
for f in "$libdir/libgochan.a" "$libdir/libgochan.so.0" "$libdir/pkgconfig/gochan.pc" \
	"$libdir/cmake/gochan/gochanConfig.cmake" "$libdir/cmake/gochan/gochanConfigVersion.cmake" \
	"$root/include/gochan.h" "$root/share/man/man3/chan_send.3" "$root/share/man/man3/gochan.3" \
	"$root/share/doc/gochan/gochan-reference.html"; do
	[ -e "$f" ] || { echo "install-check: $f was not installed" >&2; exit 1; }
done
grep -qx "libdir=\${prefix}/$libdir_rel" "$libdir/pkgconfig/gochan.pc" ||
	{ echo "install-check: gochan.pc's libdir ignores --prefix-lib-dir:" >&2; cat "$libdir/pkgconfig/gochan.pc" >&2; exit 1; }
grep -q "^prefix=$prefix\$" "$libdir/pkgconfig/gochan.pc" ||
	{ echo "install-check: gochan.pc's prefix is not $prefix (DESTDIR leaked?)" >&2; exit 1; }

# Only our .pc is reachable (PKG_CONFIG_LIBDIR replaces the system path):
# any Requires would fail here.  The sysroot maps the final paths onto the stage.
pc() { PKG_CONFIG_LIBDIR=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage pkg-config "$@" gochan; }
cflags=$(pc --cflags)
cc=${CC:-cc}
app=$src/examples/consumer/consumer.c
run() { # NAME BINARY
	local out
	out=$("$2") || { echo "install-check: $1: the consumer failed: $out" >&2; exit 1; }
	echo "install-check: $1: $out"
}

# 1. shared, found at run time through the rpath (README: or ldconfig / LD_LIBRARY_PATH)
"$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/shared" "$app" $cflags $(pc --libs) -Wl,-rpath,"$libdir"
readelf -d "$tmp/shared" | grep -q 'NEEDED.*libgochan\.so\.0' ||
	{ echo "install-check: shared: the binary does not NEED libgochan.so.0" >&2; exit 1; }
run "pkg-config shared" "$tmp/shared"

# 2. static libgochan in a dynamic executable
"$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/static" "$app" $cflags $(pc --libs-only-L) -l:libgochan.a $(pc --static --libs-only-other)
if readelf -d "$tmp/static" | grep -q 'NEEDED.*libgochan'; then
	echo "install-check: static: the binary still NEEDs libgochan" >&2; exit 1
fi
run "pkg-config static libgochan.a" "$tmp/static"

# 3. fully static: -static makes the linker take libgochan.a (and glibc's .a)
"$cc" -std=c11 -Wall -Wextra -Werror -static -o "$tmp/full-static" "$app" $cflags $(pc --static --libs) 2>"$tmp/ld.txt" ||
	{ cat "$tmp/ld.txt" >&2; exit 1; }
if readelf -d "$tmp/full-static" 2>/dev/null | grep -q NEEDED; then
	echo "install-check: -static: the binary has NEEDED entries" >&2; exit 1
fi
run "pkg-config --static, -static" "$tmp/full-static"

# 4. CMake
for mode in shared static; do
	b=$tmp/cmake-$mode
	opt=OFF
	[ $mode = static ] && opt=ON
	cmake -S "$src/examples/consumer" -B "$b" -DCMAKE_PREFIX_PATH="$root" -DGOCHAN_STATIC=$opt \
		-DCMAKE_C_FLAGS="-Wall -Wextra -Werror" -DCMAKE_BUILD_RPATH="$libdir" >"$b.log" 2>&1 ||
		{ cat "$b.log" >&2; exit 1; }
	cmake --build "$b" >>"$b.log" 2>&1 || { cat "$b.log" >&2; exit 1; }
	if [ $mode = shared ]; then
		readelf -d "$b/consumer" | grep -q 'NEEDED.*libgochan\.so\.0' ||
			{ echo "install-check: cmake shared: no libgochan.so.0 NEEDED" >&2; exit 1; }
	elif readelf -d "$b/consumer" | grep -q 'NEEDED.*libgochan'; then
		echo "install-check: cmake static: libgochan NEEDED" >&2; exit 1
	fi
	run "cmake find_package ($mode)" "$b/consumer"
done
# 5. uninstall removes every file install put there (directories may stay)
DESTDIR=$stage "$zig" build uninstall "${args[@]}"
left=$(find "$stage" -not -type d)
if [ -n "$left" ]; then
	echo "install-check: zig build uninstall left:" >&2
	echo "$left" >&2
	exit 1
fi
echo "install-check: uninstall removed every installed file"
echo "install-check: ok"
