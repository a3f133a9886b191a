/*
 * tests/test_time_thread.c - the one timer thread: started lazily, exits
 * when no timer is pending (also when the last one is stopped long before
 * its deadline), is started again by a later timer, does not churn for a
 * loop of short-lived timers, leaves no OS thread behind, and
 * gotime_shutdown() (0 / EBUSY / EDEADLK).
 *
 * Criterion runs every test in a fresh process, so each starts with no
 * timer thread; the counts are still compared relative to the start.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tests/leakcheck.h"
#include "tests/test_time_util.h"
#include "timer/timer_internal.h"

TU_LEAK_CHECKED_SUITE(time_thread);

Test(time_thread, started_lazily_exits_when_idle, .timeout = 20)
{
	int base = tu_os_threads();
	uint64_t started = gotime__threads_started();
	cr_assert_eq(gotime__threads_live(), 0, "a timer thread before any timer");

	chan_t *c = gotime_after(TT_MS);
	cr_assert_not_null(c);
	cr_assert_eq(gotime__threads_live(), 1);
	cr_assert_eq(gotime__threads_started(), started + 1);
	tt_recv(c);
	chan_unref(c);
	cr_assert_eq(gotime__wait_thread_exit(chan_now() + TT_PATIENCE), 0,
		     "the idle thread did not exit");
	cr_assert_eq(gotime__threads_live(), 0);
	cr_assert_eq(gotime__pending(), 0);
	cr_assert(tu_os_threads_back_to(base, TT_PATIENCE),
		  "an OS thread was left behind (%d, base %d)", tu_os_threads(), base);

	/* A later timer starts it again. */
	c = gotime_after(TT_MS);
	cr_assert_eq(gotime__threads_started(), started + 2);
	tt_recv(c);
	chan_unref(c);
	cr_assert_eq(gotime__wait_thread_exit(chan_now() + TT_PATIENCE), 0);
	cr_assert(tu_os_threads_back_to(base, TT_PATIENCE));
}

/* Stopping the last timer long before its deadline: the thread does not
 * sleep toward that deadline, it exits after the linger period. */
Test(time_thread, exits_after_last_far_timer_stopped, .timeout = 20)
{
	for (int i = 0; i < 5; i++) {
		gotime_timer_t *t = gotime_timer_new(TT_FAR);
		gotime_ticker_t *tk = gotime_ticker_new(TT_FAR);
		gotime_timer_t *f = gotime_after_func(TT_FAR, (void (*)(void *))abort, NULL);
		cr_assert(t && tk && f);
		cr_assert_eq(gotime__threads_live(), 1);
		tt_flush(0); /* the thread is now asleep toward TT_FAR */
		gotime_timer_free(t);
		gotime_ticker_free(tk);
		cr_assert(gotime_timer_stop(f));
		cr_assert_eq(gotime__pending(), 0);
		int64_t t0 = chan_now();
		cr_assert_eq(gotime__wait_thread_exit(chan_now() + TT_PATIENCE), 0);
		cr_assert_lt(chan_now() - t0, TT_PATIENCE);
		gotime_timer_free(f);
	}
}

/* A loop of short-lived timers does not start a thread per timer: the idle
 * thread lingers GOTIME_IDLE_LINGER_NS for the next one. */
Test(time_thread, no_thread_churn, .timeout = 20)
{
	uint64_t started = gotime__threads_started();
	int64_t t0 = chan_now();
	for (int i = 0; i < 5000; i++) {
		gotime_timer_t *t = gotime_timer_new(GOTIME_SECOND);
		cr_assert_not_null(t);
		cr_assert(gotime_timer_stop(t));
		gotime_timer_free(t);
	}
	int64_t elapsed = chan_now() - t0;
	uint64_t n = gotime__threads_started() - started;
	/* Each start needs the previous thread to have idled a whole linger
	 * period, so the count is bounded by the elapsed time. */
	cr_assert_leq(n, 1 + (uint64_t)(elapsed / GOTIME_IDLE_LINGER_NS),
		      "%llu thread starts in %lld ns", (unsigned long long)n, (long long)elapsed);
}

Test(time_thread, shutdown_idle_and_restart, .timeout = 20)
{
	int base = tu_os_threads();
	cr_assert_eq(gotime_shutdown(), 0, "shutdown with nothing started");
	chan_t *c = gotime_after(0);
	tt_flush(0); /* starts the thread */
	cr_assert_eq(gotime__threads_live(), 1);
	/* Idle but lingering: shutdown stops it at once. */
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__threads_live(), 0, "shutdown returned before the thread ended");
	cr_assert(tu_os_threads_back_to(base, TT_PATIENCE));
	cr_assert_eq(gotime_shutdown(), 0, "second shutdown");
	chan_unref(c);
	cr_assert_eq(gotime__heap_reserved(), 0);
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__heap_capacity(), 0, "heap storage kept after shutdown");

	/* Timers work again afterwards. */
	int64_t t0 = chan_now();
	c = gotime_after(TT_MS);
	cr_assert_geq(tt_recv(c), t0 + TT_MS);
	chan_unref(c);
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__threads_live(), 0);
}

Test(time_thread, shutdown_busy_while_pending, .timeout = 20)
{
	gotime_timer_t *t = gotime_timer_new(TT_FAR);
	cr_assert_not_null(t);
	cr_assert_eq(gotime_shutdown(), EBUSY);
	cr_assert_eq(gotime__threads_live(), 1, "EBUSY must change nothing");
	/* the timer still works */
	cr_assert(gotime_timer_reset(t, TT_MS));
	tt_recv(gotime_timer_chan(t));
	cr_assert_eq(gotime_shutdown(), 0);

	gotime_ticker_t *tk = gotime_ticker_new(TT_MS);
	cr_assert_eq(gotime_shutdown(), EBUSY, "a running ticker is pending");
	gotime_ticker_stop(tk);
	cr_assert_eq(gotime_shutdown(), 0);
	gotime_ticker_free(tk);
	gotime_timer_free(t);
}

static void shutdown_from_cb(void *p)
{
	int *rc = p;
	*rc = gotime_shutdown(); /* published by tt_flush's probe */
}

Test(time_thread, shutdown_from_callback_edeadlk, .timeout = 20)
{
	int rc = -1;
	gotime_timer_t *t = gotime_after_func_at(chan_now(), shutdown_from_cb, &rc);
	cr_assert_not_null(t);
	tt_flush(0);
	cr_assert_eq(rc, EDEADLK);
	gotime_timer_free(t);
}

struct held {
	chan_t *started;
	chan_t *release;
};

static void held_fn(void *p)
{
	struct held *h = p;
	chan_close(h->started);
	chan_recv_until(h->release, NULL, NULL, chan_now() + TT_PATIENCE);
}

Test(time_thread, shutdown_busy_while_afterfunc_runs, .timeout = 20)
{
	struct held h = {.started = chan_new(0, 0), .release = chan_new(0, 0)};
	gotime_timer_t *t = gotime_after_func(0, held_fn, &h);
	cr_assert_not_null(t);
	bool ok = true;
	cr_assert_eq(chan_recv_until(h.started, NULL, &ok, chan_now() + TT_PATIENCE), 0);
	cr_assert_eq(gotime__pending(), 0);
	cr_assert_eq(gotime_shutdown(), EBUSY, "an AfterFunc function is running");
	cr_assert_eq(chan_send(h.release, NULL), 0);
	cr_assert_eq(gotime__wait_afterfuncs(chan_now() + TT_PATIENCE), 0);
	cr_assert_eq(gotime_shutdown(), 0);
	gotime_timer_free(t);
	chan_unref(h.started);
	chan_unref(h.release);
}

/* Shutdown racing timer creation from other threads: no timer is lost,
 * each shutdown returns 0 or EBUSY. */
struct churn_arg {
	atomic_int *finished;
	atomic_long *calls; /* the main thread's shutdown calls so far */
	long fired;
	long bad;
};

static void *churn(void *p)
{
	struct churn_arg *a = p;
	/* 300 timers, and on until a shutdown was called while they ran (a
	 * fast worker, or a main thread that first runs late, could otherwise
	 * finish before any shutdown raced it). */
	for (int i = 0; i < 300 || atomic_load_explicit(a->calls, memory_order_relaxed) == 0; i++) {
		chan_t *c = gotime_after(i % 3 ? 1000 : 0);
		int64_t v;
		bool ok = false;
		if (!c || chan_recv_until(c, &v, &ok, chan_now() + TT_PATIENCE) || !ok)
			a->bad++;
		else
			a->fired++;
		if (c)
			chan_unref(c);
	}
	/* release: publishes fired/bad (the join does too; this only ends
	 * the shutdown loop) */
	atomic_fetch_add_explicit(a->finished, 1, memory_order_release);
	return NULL;
}

Test(time_thread, shutdown_races_new_timers, .timeout = 60)
{
	enum {
		T = 2
	};
	atomic_int finished = 0;
	atomic_long ncalls = 0;
	struct churn_arg a[T];
	tu_go_t th[T];
	for (int i = 0; i < T; i++) {
		a[i] = (struct churn_arg){.finished = &finished, .calls = &ncalls};
		th[i] = tu_spawn(churn, &a[i]);
	}
	long calls = 0, zero = 0;
	/* acquire: pairs with the workers' release increments */
	while (atomic_load_explicit(&finished, memory_order_acquire) < T) {
		int rc = gotime_shutdown();
		cr_assert(rc == 0 || rc == EBUSY, "shutdown: %d", rc);
		calls++;
		atomic_fetch_add_explicit(&ncalls, 1, memory_order_relaxed);
		zero += rc == 0;
	}
	for (int i = 0; i < T; i++)
		tu_join(th[i]);
	for (int i = 0; i < T; i++)
		cr_assert_eq(a[i].bad, 0, "worker %d: %ld timers lost", i, a[i].bad);
	cr_assert_gt(calls, 0, "no shutdown raced the workers");
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__threads_live(), 0);
	(void)zero;
}

/* Shutdown means gone (issue 15): when gotime_shutdown() returns 0, the
 * thread it stopped has left the count godiag_threads() and
 * godiag_verify_none() read.  It used to return as soon as the thread said
 * "not running", before the thread uncounted itself: half the tries still
 * counted it.  Each round starts a fresh thread (the started count says so)
 * and stops it while it lingers, idle. */
Test(time_thread, shutdown_returns_after_uncounting, .timeout = 120)
{
	for (int i = 0; i < 10000; i++) {
		uint64_t started = gotime__threads_started();
		gotime_timer_t *t = gotime_timer_new(3600 * GOTIME_SECOND);
		cr_assert_not_null(t);
		cr_assert_eq(gotime__threads_started(), started + 1, "round %d: no new thread", i);
		cr_assert(gotime_timer_stop(t));
		gotime_timer_free(t);
		cr_assert_eq(gotime_shutdown(), 0, "round %d", i);
		cr_assert_eq(godiag_threads(), 0,
			     "round %d: gotime_shutdown returned 0 with %u library threads counted",
			     i, godiag_threads());
	}
}
