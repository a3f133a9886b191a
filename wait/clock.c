/*
 * wait/clock.c - the monotonic clock that deadlines are measured on, and the
 * public deadline helper (the saturating arithmetic is wait/clock.h's).
 */
#include "wait/clock.h"

#include <time.h>

int64_t chan_now(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is answered by the vDSO (~20 ns, no system call). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t chan_deadline_in(int64_t ns)
{
	return gowait__time_add(chan_now(), ns > 0 ? ns : 0);
}
