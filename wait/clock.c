/*
 * wait/clock.c - the monotonic clock that deadlines are measured on, and the
 * public deadline helper (the saturating arithmetic is wait/clock.h's).
 */
#include "wait/clock.h"
#include "wait/bubble.h"

#include <time.h>

_Thread_local struct gowait__bubble *gowait__bubble_cur __attribute__((tls_model("initial-exec")));

int64_t gowait__mono_now(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is answered by the vDSO (~20 ns, no system call). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* On a bubble's worker the bubble's virtual clock (wait/bubble.h). */
int64_t chan_now(void)
{
	struct gowait__bubble *b = gowait__bubble_cur;

	return b ? b->now : gowait__mono_now();
}

int64_t chan_deadline_in(int64_t ns)
{
	return gowait__time_add(chan_now(), ns > 0 ? ns : 0);
}
