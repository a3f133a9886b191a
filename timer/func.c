/*
 * timer/func.c - function timers: gotime_after_func_at (the function runs on
 * the timer thread) and gotime_after_func (Go's AfterFunc: the function runs
 * on a thread of its own, started by the timer thread when it is due: a
 * one-shot service thread, service/service.h, that leaves as soon as its
 * function has returned: linger 0).
 * They have no channel and no send_mu: Stop and Reset only touch the heap,
 * and "pending" means "still in the heap".
 */
#include <errno.h>
#include <limits.h>

#include "service/threads.h"
#include "timer/timer_impl.h"
#include "wait/word.h"

/* The AfterFunc threads: their own lock (they share nothing else), taken
 * under g->mu by gotime_shutdown (GOWAIT_LOCKRANK_TIMER_AFTERFUNC). */
static pthread_mutex_t afterfunc_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gosvc afterfunc_svc = GOSVC_INIT(&afterfunc_mu, GOWAIT_LOCKRANK_TIMER_AFTERFUNC,
					       GODIAG_THREAD_AFTERFUNC, 0, false);

bool gotime__func_timer_set(struct gotime_timer *t, bool rearm, int64_t when, int *err)
{
	bool removed;

	*err = 0;
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	removed = gotime__disarm_locked(t);
	if (rearm)
		*err = gotime__arm_locked(t, when);
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	if (removed)
		timer_unref(t); /* the heap's reference; never the last */
	return removed;
}

/* Count a returned AfterFunc function out of gotime__afterfuncs. */
static void afterfunc_done(void)
{
	/* Release: pairs with the acquire in gotime_shutdown and
	 * gotime__wait_afterfuncs so that everything fn did happens before
	 * they see the count drop.  The last one out wakes the waiters of the
	 * latter (wait/word.h: no lock and no system call when none waits). */
	if (atomic_fetch_sub_explicit(&gotime__afterfuncs, 1, memory_order_release) == 1)
		gowait__word_wake(&gotime__afterfuncs, INT_MAX);
}

static void *afterfunc_main(void *p)
{
	struct gotime_timer *t = p;

	gosvc__enter(&afterfunc_svc);
	t->fn(t->arg);
	timer_unref(t);
	/* Counted out under afterfunc_mu, in the critical section in which the
	 * thread leaves: whoever sees the count drop and then passes through
	 * afterfunc_mu (gotime__afterfunc_sync) finds this thread gone.  No
	 * thread outlives the work it serves. */
	gowait__mutex_lock(&afterfunc_mu, GOWAIT_LOCKRANK_TIMER_AFTERFUNC);
	afterfunc_done();
	gosvc__leave_locked(&afterfunc_svc); /* its last access to library state */
	return NULL;
}

void gotime__afterfunc_sync(void)
{
	gosvc__sync(&afterfunc_svc);
}

void gotime__func_fire(struct gotime_timer *t)
{
	if (t->kind == TK_FUNC) {
		t->fn(t->arg);
		timer_unref(t);
		return;
	}
	/* TK_FUNC_THREAD: the pop counted it in gotime__afterfuncs.  The
	 * firing's reference moves to the new thread. */
	if (gosvc__start(&afterfunc_svc, afterfunc_main, t) != 0) {
		/* No thread to be had: run it here rather than lose it. */
		t->fn(t->arg);
		timer_unref(t);
		afterfunc_done();
	}
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

int gotime_after_func_detached(int64_t d, void (*fn)(void *arg), void *arg)
{
	gotime_timer_t *t = gotime_after_func(d, fn, arg);

	if (!t)
		return errno;
	/* Cannot fail: t is not NULL.  The heap's reference (taken when it
	 * was armed, before the function could run) now keeps the timer
	 * until it has fired; the firing frees it (timer_unref in
	 * afterfunc_main, or in gotime__bubble_fire in a bubble). */
	return gotime_timer_release(t);
}
