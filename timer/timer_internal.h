/*
 * timer/timer_internal.h - queries into the timer machinery, for tests and
 * benchmarks only.  Not installed; not for users.
 */
#ifndef GOCHAN_TIMER_INTERNAL_H
#define GOCHAN_TIMER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Timers in the heap now (armed and not yet fired).  Takes the heap mutex. */
size_t gotime__pending(void);

/* Timer threads alive now: 0 or 1 (a thread counts until it has released
 * every library resource; what remains is the OS thread's own exit). */
unsigned gotime__threads_live(void);

/* Timer threads started since the process began (to see restarts). */
uint64_t gotime__threads_started(void);

/* AfterFunc (gotime_after_func) functions started or about to start and not
 * yet returned. */
unsigned gotime__afterfunc_live(void);

/*
 * Block until no AfterFunc function is running or about to run
 * (gotime__afterfunc_live() == 0), or until @deadline (chan_now() time;
 * CHAN_FOREVER: no limit).  Returns 0 or ETIMEDOUT.  Waits on the count
 * (wait/word.h: parks a fiber on a fiber), which the last function thread
 * to finish wakes: synchronisation, not polling.
 * Everything the functions did happens before a return of 0.
 */
int gotime__wait_afterfuncs(int64_t deadline);

/* Heap slots allocated / reserved by live timer objects. */
size_t gotime__heap_capacity(void);
size_t gotime__heap_reserved(void);

/* Fewest orphan candidates (handleless After/Tick timers in the heap) that
 * make a creation sweep the heap for orphans (timer_impl.h, "Orphans"). */
#define GOTIME__ORPHAN_SWEEP_MIN 64

/*
 * Block until no timer thread is alive, or until @deadline (chan_now()
 * time; CHAN_FOREVER: no limit).  Returns 0 or ETIMEDOUT.  Waits on the
 * condition variable the exiting thread signals: synchronisation, not a
 * sleep.
 */
int gotime__wait_thread_exit(int64_t deadline);

/*
 * The timer thread's idle linger, GOTIME_IDLE_LINGER_NS by default: set it
 * to @ns (<= 0: it exits as soon as the heap is empty) and return the old
 * value.  For tests that cycle the thread through start and idle exit.
 */
int64_t gotime__set_linger_ns(int64_t ns);

/*
 * The timers of a bubble (fiber/bubble.c, gochan/bubble.h; timer/bubble.c).
 * A timer created on a bubble's worker (gowait__bubble_cur set) belongs to
 * that bubble: it is armed on the bubble's virtual clock, in the same heap
 * as every timer (so Stop and Reset work unchanged) but with a deadline
 * decades past any real CLOCK_MONOTONIC time, and the timer thread is not
 * started for it; the bubble fires it, on its worker.
 *
 * gotime__bubble_next - the earliest deadline among @b's armed timers
 * (INT64_MAX: none).  gotime__bubble_fire - fire the earliest of @b's timers
 * due at @now (the oldest arming first among equal deadlines), on this
 * thread: a channel timer's value is sent, a function timer's function runs
 * here (after_func_at) or as a fiber of the bubble (after_func).  Returns
 * false if none was due.  Both take the heap mutex; O(timers in the heap).
 */
struct gowait__bubble;
int64_t gotime__bubble_next(const struct gowait__bubble *b);
bool gotime__bubble_fire(struct gowait__bubble *b, int64_t now);

#endif
