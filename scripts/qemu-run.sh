#!/usr/bin/env bash
# scripts/qemu-run.sh LIBDIR PROGRAM [ARGS...] - run an aarch64 Linux program
# on this (x86-64) machine under qemu-aarch64-static, with LIBDIR (the arm64
# libraries scripts/setup.sh --test unpacked) on its LD_LIBRARY_PATH.
#
# Criterion's runner re-executes itself (/proc/self/exe) for every test, and
# a plain `qemu-aarch64-static PROGRAM` cannot follow an exec of an aarch64
# binary.  So the program runs in a user and mount namespace of its own, in
# which qemu-aarch64-static is registered with binfmt_misc (Linux >= 6.7
# gives each user namespace its own binfmt_misc): every aarch64 exec in it,
# the first one included, goes through qemu.  Nothing changes outside the
# namespace.  Where that is impossible (older kernels), it falls back to
# running PROGRAM under qemu directly, which is enough for programs that do
# not exec themselves (the stress programs).
set -u
libdir=$1
shift
qemu=$(command -v qemu-aarch64-static) || {
	echo "qemu-run: qemu-aarch64-static not found (scripts/setup.sh --test installs qemu-user-static)" >&2
	exit 127
}
export LD_LIBRARY_PATH=$libdir
# The tests' "is this thread parked in a futex wait" check reads
# /proc/<tid>/syscall, which shows the host's system call numbers here.
case $(uname -m) in
x86_64) export GOCHAN_TEST_HOST_FUTEX_NR=202 ;;
aarch64) export GOCHAN_TEST_HOST_FUTEX_NR=98 ;;
esac
# The aarch64 ELF executable pattern of Debian's qemu-user-static binfmt file.
magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
inner='mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null &&
	printf "%s" "$1" >/proc/sys/fs/binfmt_misc/register 2>/dev/null || exit 125
	shift
	exec "$@"'
if unshare --user --map-root-user --mount true 2>/dev/null; then
	unshare --user --map-root-user --mount --fork bash -c "$inner" qemu-run \
		":qemu-aarch64:M::$magic:$mask:$qemu:F" "$@"
	rc=$?
	[ "$rc" -ne 125 ] && exit "$rc"
fi
echo "qemu-run: no private binfmt_misc here (Linux < 6.7?): running under $qemu directly;" \
	"a program that re-executes itself (Criterion's runner) will fail" >&2
exec "$qemu" "$@"
