#!/usr/bin/env bash
# scripts/run-prog.sh NAME SECONDS PROGRAM [ARGS...] - how the build's test
# steps run a program: under timeout(1), so that a hang fails the step instead
# of CI, and between two lines naming it, the second with its outcome and
# duration (the steps' output is otherwise one unlabelled stream).
set -u
name=$1 seconds=$2
shift 2
echo "==== $name" >&2
start=$(date +%s)
timeout --kill-after=10 "$seconds" "$@"
rc=$?
took=$(($(date +%s) - start))
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "==== $name: FAILED: killed by the ${seconds} s timeout (hung?), ${took} s" >&2
elif [ "$rc" -gt 128 ]; then
	echo "==== $name: FAILED: died of SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128))), ${took} s" >&2
elif [ "$rc" -ne 0 ]; then
	echo "==== $name: FAILED: exit $rc, ${took} s" >&2
else
	echo "==== $name: ok, ${took} s" >&2
fi
exit "$rc"
