/*
 * timer/func.c - function timers: gotime_after_func_at (the function runs on
 * the timer thread) and gotime_after_func (Go's AfterFunc: the function runs
 * on a thread of its own, started by the timer thread when it is due).
 * They have no channel and no send_mu: Stop and Reset only touch the heap,
 * and "pending" means "still in the heap".
 */
#include <errno.h>
#include <limits.h>

#include "wait/futex.h"
#include "diag/threads.h"
#include "timer/timer_impl.h"

bool gotime__func_timer_set(struct gotime_timer *t, bool rearm, int64_t when, int *err)
{
	bool removed;

	*err = 0;
	pthread_mutex_lock(&g->mu);
	removed = gotime__disarm_locked(t);
	if (rearm)
		*err = gotime__arm_locked(t, when);
	pthread_mutex_unlock(&g->mu);
	if (removed)
		timer_unref(t); /* the heap's reference; never the last */
	return removed;
}

/* Run an AfterFunc function, on its own thread or (no thread to be had) on
 * the timer thread. */
static void afterfunc_run(struct gotime_timer *t)
{
	t->fn(t->arg);
	timer_unref(t);
	/* Release: pairs with the acquire in gotime_shutdown and
	 * gotime__wait_afterfuncs so that everything fn did happens before
	 * they see the count drop.  The last one out wakes the waiters of the
	 * latter: one futex call per drop to 0, beside this thread's own
	 * creation and exit. */
	if (atomic_fetch_sub_explicit(&gotime__afterfuncs, 1, memory_order_release) == 1)
		chan__futex_wake(&gotime__afterfuncs, INT_MAX);
}

static void *afterfunc_main(void *p)
{
	afterfunc_run(p);
	godiag__thread_exit(GODIAG_THREAD_AFTERFUNC); /* its last touch of library state */
	return NULL;
}

void gotime__func_fire(struct gotime_timer *t)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	if (t->kind == TK_FUNC) {
		t->fn(t->arg);
		timer_unref(t);
		return;
	}
	/* TK_FUNC_THREAD: the pop counted it in gotime__afterfuncs. */
	err = pthread_attr_init(&attr);
	if (!err) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		/* The firing's reference moves to the new thread. */
		godiag__thread_start(GODIAG_THREAD_AFTERFUNC);
		err = pthread_create(&tid, &attr, afterfunc_main, t);
		if (err)
			godiag__thread_exit(GODIAG_THREAD_AFTERFUNC);
		pthread_attr_destroy(&attr);
	}
	if (err)
		afterfunc_run(t); /* no thread to be had: run it here rather than lose it */
}

/* @when CHAN_FOREVER: made but not armed (never fires until a Reset; no
 * timer thread needed), as CHAN_FOREVER means "never" everywhere else. */
static gotime_timer_t *func_timer_new(enum timer_kind kind, int64_t when, void (*fn)(void *),
				      void *arg)
{
	struct gotime_timer *t;
	int err;

	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	t = gotime__timer_alloc(kind, fn, arg, false);
	if (!t)
		return NULL;
	gotime__func_timer_set(t, when != CHAN_FOREVER, when, &err);
	if (err) {
		gotime__func_timer_set(t, false, 0, &err);
		timer_unref(t);
		errno = EAGAIN;
		return NULL;
	}
	return t;
}

gotime_timer_t *gotime_after_func_at(int64_t deadline, void (*fn)(void *arg), void *arg)
{
	return func_timer_new(TK_FUNC, deadline, fn, arg);
}

gotime_timer_t *gotime_after_func(int64_t d, void (*fn)(void *arg), void *arg)
{
	return func_timer_new(TK_FUNC_THREAD, chan_deadline_in(d), fn, arg);
}
