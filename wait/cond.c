/*
 * wait/cond.c - the CLOCK_MONOTONIC condition variables of wait/cond.h.
 */
#include "wait/cond.h"

#include <errno.h>

#include <gochan/chan.h>

#include "wait/bubble.h"
#include "wait/debug.h"

void gowait__cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

int gowait__cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline)
{
	/* The wait releases @mu and retakes it with every other lock of this
	 * thread still held: with -DGOCHAN_DEBUG, @mu must be held and be the
	 * greatest of them (wait/debug.h), and is off the held-rank stack for
	 * the wait.  Nothing at all in a release build. */
	int rank = gowait__rank_wait_begin(mu);
	int err;

	gowait__bubble_blocks("a condition variable wait (gowait__cond_wait_until)",
			      __builtin_return_address(0));
	if (deadline == CHAN_FOREVER) {
		err = pthread_cond_wait(cv, mu);
	} else {
		struct timespec ts = gowait__timespec(deadline);
		err = pthread_cond_timedwait(cv, mu, &ts) == ETIMEDOUT ? ETIMEDOUT : 0;
	}
	gowait__rank_wait_end(rank, mu);
	return err;
}
