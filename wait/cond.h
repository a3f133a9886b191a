/*
 * wait/cond.h - THE condition variable set-up and deadline conversion of the
 * library's pthread waits: every condition variable the library waits on
 * with a deadline measures it on CLOCK_MONOTONIC (chan_now()'s clock), so a
 * wall-clock jump shifts no deadline, and every nanosecond time becomes a
 * struct timespec here.  Not installed; not for users.
 *
 * (The futex of chan/futex.h converts its own deadline: it is the wait
 * layer's fast path and will move next to this file.)
 */
#ifndef GOCHAN_WAIT_COND_H
#define GOCHAN_WAIT_COND_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/*
 * gowait__timespec - @ns (a chan_now() time or a duration, in ns) as a
 * struct timespec.  A negative @ns gives {0, 0}: for an absolute deadline,
 * a time long past; for a duration, none.
 */
static inline struct timespec gowait__timespec(int64_t ns)
{
	if (ns < 0)
		ns = 0;
	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000),
				 .tv_nsec = (long)(ns % 1000000000)};
}

/*
 * gowait__cond_init - initialise @cv so that its timed waits measure their
 * deadline on CLOCK_MONOTONIC.  The calls fail only for invalid arguments,
 * and these are valid, so it cannot fail.
 */
void gowait__cond_init(pthread_cond_t *cv);

/*
 * gowait__cond_wait_until - with @mu held, wait on @cv (made by
 * gowait__cond_init) until it is signalled or the chan_now() time @deadline
 * passes (CHAN_FOREVER: no limit; any other negative time: already past).
 * Returns 0 (signalled, or spuriously: the caller re-checks its condition in
 * a loop) or ETIMEDOUT.  @mu is held again on return either way.  @mu is a
 * lock of wait/lockrank.h taken with gowait__mutex_lock, and no lock ranked
 * above it is held (checked with -DGOCHAN_DEBUG: the wait retakes @mu under
 * every other held lock).  THE condition wait of the library: no pthread
 * wait on a tracked mutex bypasses it.
 */
int gowait__cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline);

#endif
