/*
 * wait/bubble.h - what the layers below the fiber runtime learn about a
 * bubble (fiber/bubble.c, issue 19): a clock and a choice, nothing else.
 *
 * A bubble runs all its fibers on one thread, its worker, and never lets
 * another fiber or a plain thread's code run there while it lives.  So the
 * bubble's hooks are a thread-local pointer, set by the worker while it runs
 * the bubble and NULL everywhere else: chan_now() (wait/clock.c) returns the
 * bubble's virtual clock when it is set, and select's random poll order
 * (select/select.c) draws from the bubble's decision source.  Neither is
 * shared with another thread, so no field needs an atomic.  Timers created
 * there (timer/object.c) record the bubble, which fires them on its clock
 * (timer/bubble.c).
 *
 * Spin and yield budgets are real time and must not see the frozen virtual
 * clock (a lock spin would never end): they read gowait__mono_now().
 */
#ifndef GOCHAN_WAIT_BUBBLE_H
#define GOCHAN_WAIT_BUBBLE_H

#include <stdint.h>

struct gowait__bubble {
	int64_t now;                                /* the virtual clock, ns */
	uint64_t (*rand)(struct gowait__bubble *b); /* one select decision */
	/* Start fn(arg) as a fiber of the bubble (its AfterFunc timers); 0 or
	 * ENOMEM.  Called on the worker only. */
	int (*go)(struct gowait__bubble *b, void (*fn)(void *), void *arg);
	/* A switch point (chan/chaos.h), at the entry of a channel operation
	 * or select, no lock held: the bubble may switch to another fiber. */
	void (*switch_point)(struct gowait__bubble *b);
};

/* The bubble whose worker this thread is; NULL outside every bubble. */
extern _Thread_local struct gowait__bubble *gowait__bubble_cur;

/* CLOCK_MONOTONIC, always real: for spin and yield budgets. */
int64_t gowait__mono_now(void);

#endif
