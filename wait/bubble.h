/*
 * wait/bubble.h - what the layers below the fiber runtime learn about a
 * bubble (fiber/bubble.c, issue 19): a clock and a choice, nothing else.
 *
 * A bubble runs all its fibers on one thread, its worker, and never lets
 * another fiber or a plain thread's code run there while it lives.  So the
 * bubble's hooks are a thread-local pointer, set by the worker while it runs
 * the bubble and NULL everywhere else: chan_now() (wait/clock.c) returns the
 * bubble's virtual clock when it is set, select's random poll order
 * (select/select.c) draws from the bubble's decision source, and a thread
 * wait on the worker (wait/park.c, wait/cond.c, select/select.c) is
 * reported to it (gowait__bubble_blocks).  Neither is
 * shared with another thread, so no field needs an atomic.  Timers created
 * there (timer/object.c) record the bubble, which fires them on its clock
 * (timer/bubble.c).
 *
 * Spin and yield budgets are real time and must not see the frozen virtual
 * clock (a lock spin would never end): they read gowait__mono_now().
 */
#ifndef GOCHAN_WAIT_BUBBLE_H
#define GOCHAN_WAIT_BUBBLE_H

#include <stddef.h>
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
	/* A choice in [0, n) from the bubble's decision source (0: the
	 * default; seed 0 always answers 0): which of the timers due at one
	 * virtual instant fires first (timer/bubble.c). */
	uint32_t (*choose)(struct gowait__bubble *b, uint32_t n);
	/* The worker is about to block as a thread (@what; @ra: the caller's
	 * return address, or NULL): nothing of the bubble runs until it
	 * wakes, its clock stands still, and the run is not replayable.
	 * Called by gowait__bubble_blocks() below, before the wait. */
	void (*blocks)(struct gowait__bubble *b, const char *what, const void *ra);
	/* Plain threads the bubble completed (a send that a thread outside
	 * waited for): counted by wait/park.c's gowait__complete, on the
	 * worker (this struct is the worker's alone). */
	uint64_t thread_wakes;
};

/* The bubble whose worker this thread is; NULL outside every bubble. */
extern _Thread_local struct gowait__bubble *gowait__bubble_cur __attribute__((tls_model("initial-exec")));

/*
 * gowait__bubble_blocks - a thread wait is about to start on this thread
 * (the wait layer's thread park, a condition variable, select {} on a
 * thread): if it is a bubble's worker, tell the bubble, which counts it and
 * says so at once (the wait may never end: its deadline, if any, was read
 * from the virtual clock, decades past the real one).  What it cannot see:
 * a bubble fiber's own pthread_mutex_lock, pthread_cond_wait, sleep or
 * blocking system call, and the real clock read directly (clock_gettime):
 * those go straight to the kernel (gochan/bubble.h, "Outside the bubble").
 */
static inline void gowait__bubble_blocks(const char *what, const void *ra)
{
	struct gowait__bubble *b = gowait__bubble_cur;

	if (__builtin_expect(b != NULL, 0))
		b->blocks(b, what, ra);
}

/* CLOCK_MONOTONIC, always real: for spin and yield budgets. */
int64_t gowait__mono_now(void);

#endif
