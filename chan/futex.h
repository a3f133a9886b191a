/*
 * chan/futex.h - the two futex calls gochan makes, over liburcu's wrapper.
 *
 * liburcu's futex_async() passes the operation straight to the kernel (and
 * falls back to its portable emulation only where futexes are missing), so
 * we can use the private flag and FUTEX_WAIT_BITSET, whose timeout is an
 * absolute CLOCK_MONOTONIC time: exactly our deadline representation, with
 * no conversion to a relative timeout that would drift across EINTR retries.
 */
#ifndef GOCHAN_CHAN_FUTEX_H
#define GOCHAN_CHAN_FUTEX_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <urcu/futex.h>

#ifndef FUTEX_PRIVATE_FLAG
#define FUTEX_PRIVATE_FLAG 128
#endif
#ifndef FUTEX_WAIT_BITSET
#define FUTEX_WAIT_BITSET 9
#endif
#ifndef FUTEX_BITSET_MATCH_ANY
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#endif

/*
 * chan__futex_wait - sleep while *word == val, until woken or the absolute
 * monotonic @deadline_ns passes (deadline_ns < 0: no limit).
 * Returns 0 (woken, or *word != val already, or EINTR: the caller re-checks
 * its condition in a loop anyway) or ETIMEDOUT.
 */
static inline int chan__futex_wait(_Atomic uint32_t *word, uint32_t val, int64_t deadline_ns)
{
	struct timespec ts, *tsp = NULL;

	if (deadline_ns >= 0) {
		ts.tv_sec = deadline_ns / 1000000000;
		ts.tv_nsec = deadline_ns % 1000000000;
		tsp = &ts;
	}
	if (futex_async((int32_t *)word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, (int32_t)val, tsp,
			NULL, (int32_t)FUTEX_BITSET_MATCH_ANY) < 0 &&
	    errno == ETIMEDOUT)
		return ETIMEDOUT;
	return 0;
}

/* chan__futex_wake - wake up to @n threads sleeping on @word. */
static inline void chan__futex_wake(_Atomic uint32_t *word, int n)
{
	futex_async((int32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

#endif
