/*
 * fiber/sched.h - the scheduler's statistics, for tests and benchmarks
 * (fiber/sched.c).  Not installed.
 */
#ifndef GOCHAN_FIBER_SCHED_H
#define GOCHAN_FIBER_SCHED_H

#include <stdint.h>

struct gofiber__sched_stats {
	uint32_t workers;         /* worker slots (GOFIBER_WORKERS or the cores) */
	uint64_t wakes;           /* futex wakes of idle worker threads */
	uint64_t steals;          /* successful steals from another slot */
	uint64_t threads_started; /* worker threads created */
};

/* gofiber__sched_stats - counters since the process began (relaxed reads;
 * zeros before the first gofiber_go). */
void gofiber__sched_stats(struct gofiber__sched_stats *st);

#endif
