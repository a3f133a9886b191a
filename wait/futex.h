/*
 * wait/futex.h - the two futex calls gochan makes: wait on a 32-bit word
 * until an absolute CLOCK_MONOTONIC deadline, and wake.
 *
 * On Linux they are the raw system call: FUTEX_WAIT_BITSET with
 * FUTEX_BITSET_MATCH_ANY takes an ABSOLUTE CLOCK_MONOTONIC timeout, exactly
 * our deadline representation, so nothing drifts across EINTR retries, and
 * the private flag keeps the kernel's hashing process-local.
 *
 * Elsewhere (no SYS_futex), or when built with -DGOCHAN_FUTEX_PORTABLE (which
 * is how the fallback is exercised on Linux), wait/futex.c emulates both
 * calls with a small table of mutex + CLOCK_MONOTONIC condition variable
 * buckets hashed by address.  liburcu's compat emulation is NOT a substitute:
 * it rejects FUTEX_WAIT_BITSET and any wait with a timeout, which is every
 * deadline gochan has.
 *
 * Contract of both implementations (what every caller relies on):
 *   - wait returns at once if *word != val when it looks (atomically with
 *     going to sleep, with respect to a wake that follows a change of the
 *     word);
 *   - it may return spuriously: every caller re-checks its word in a loop;
 *   - a wake on an address that is no longer a futex word (the owner's stack
 *     frame is gone) is harmless.
 */
#ifndef GOCHAN_WAIT_FUTEX_H
#define GOCHAN_WAIT_FUTEX_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__linux__) && defined(SYS_futex) && !defined(GOCHAN_FUTEX_PORTABLE)
#define GOCHAN_FUTEX_SYSCALL 1
#endif

#ifdef GOCHAN_FUTEX_SYSCALL

/*
 * gowait__futex_wait - sleep while *word == val, until woken or the absolute
 * monotonic @deadline_ns passes (deadline_ns < 0: no limit).
 * Returns 0 (woken, or *word != val already, or EINTR: the caller re-checks
 * its condition in a loop anyway) or ETIMEDOUT.
 */
static inline int gowait__futex_wait(_Atomic uint32_t *word, uint32_t val, int64_t deadline_ns)
{
	struct timespec ts, *tsp = NULL;

	if (deadline_ns >= 0) {
		ts.tv_sec = deadline_ns / 1000000000;
		ts.tv_nsec = deadline_ns % 1000000000;
		tsp = &ts;
	}
	if (syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, val, tsp,
		    NULL, FUTEX_BITSET_MATCH_ANY) < 0 &&
	    errno == ETIMEDOUT)
		return ETIMEDOUT;
	return 0;
}

/* gowait__futex_wake - wake up to @n threads sleeping on @word. */
static inline void gowait__futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

#else /* portable fallback, wait/futex.c */

int gowait__futex_wait(_Atomic uint32_t *word, uint32_t val, int64_t deadline_ns);
void gowait__futex_wake(_Atomic uint32_t *word, int n);

#endif

#endif
