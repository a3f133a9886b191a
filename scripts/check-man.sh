#!/usr/bin/env bash
# scripts/check-man.sh MAN_DIR - `zig build man-check`: every page of the
# generated reference (scripts/gen-man.py) formats without a groff warning
# (-ww), and every public function has its page (`man chan_send` works).
set -euo pipefail
dir=$1
cd "$dir" # the function pages are `.so man3/<family page>`, relative to here
n=0
for page in man3/*.3; do
	err=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1) || true
	if [ -n "$err" ]; then
		echo "man-check: $page: $err" >&2
		exit 1
	fi
	n=$((n + 1))
done
for f in chan_send chan_select ctx_done gotime_after gopoll_watch gowg_go gogroup_go godiag_dump gochan_version gofiber_go; do
	[ -e "man3/$f.3" ] || { echo "man-check: no page for $f" >&2; exit 1; }
done
[ -s html/gochan-reference.html ] || { echo "man-check: no HTML reference" >&2; exit 1; }
echo "man-check: $n pages format cleanly"
