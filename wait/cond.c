/*
 * wait/cond.c - the CLOCK_MONOTONIC condition variables of wait/cond.h.
 */
#include "wait/cond.h"

#include <errno.h>

#include <gochan/chan.h>

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
	if (deadline == CHAN_FOREVER)
		return pthread_cond_wait(cv, mu);
	struct timespec ts = gowait__timespec(deadline);
	return pthread_cond_timedwait(cv, mu, &ts) == ETIMEDOUT ? ETIMEDOUT : 0;
}
