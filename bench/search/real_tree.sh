#!/usr/bin/env bash
# bench/search/real_tree.sh KEY CACHE_DIR - unpack a real source tree from a
# Debian package once (apt-get download + dpkg-deb -x), reuse it afterwards,
# and print the directory to serve. Anyone with Debian 12's archive can make
# the same tree; the version is the candidate apt-cache names (recorded in
# the directory's name and in the results).
#
#   go     golang-1.19-src: the Go 1.19 toolchain's sources, served from
#          usr/share/go-1.19 (about 13,000 files, 120 MB; an 18 MB .deb)
#   linux  linux-source-6.1: the kernel's sources, the .deb's tarball
#          unpacked (about 80,000 files, 1.3 GB; a 139 MB .deb)
set -euo pipefail
key=${1:?usage: real_tree.sh go|linux CACHE_DIR}
cache=${2:?usage: real_tree.sh go|linux CACHE_DIR}
case $key in
go) pkg=golang-1.19-src ;;
linux) pkg=linux-source-6.1 ;;
*) echo "real_tree: unknown tree $key (go or linux)" >&2; exit 2 ;;
esac
ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	echo "real_tree: apt-cache has no candidate for $pkg (run apt-get update)" >&2
	exit 1
fi
dir=$cache/$pkg-${ver//:/_}
case $key in
go) root=$dir/x/usr/share/go-1.19 ;;
linux) root=$dir/linux-source-6.1 ;;
esac
if [ "$(cat "$dir/.complete" 2>/dev/null)" != "$ver" ]; then
	echo "real_tree: fetching and unpacking $pkg $ver into $dir (once)" >&2
	rm -rf "$dir"
	mkdir -p "$dir/deb"
	(cd "$dir/deb" && apt-get download -q "$pkg=$ver" >&2)
	dpkg-deb -x "$dir"/deb/*.deb "$dir/x"
	if [ "$key" = linux ]; then
		tar -xf "$dir"/x/usr/src/linux-source-6.1.tar.* -C "$dir"
		rm -rf "$dir/x"
	fi
	rm -rf "$dir/deb"
	[ -d "$root" ] || { echo "real_tree: $root is missing after unpacking" >&2; exit 1; }
	echo "$ver" >"$dir/.complete"
else
	echo "real_tree: reusing $pkg $ver in $dir" >&2
fi
echo "$root"
