/*
 * tests/test_time_orphan.c - After and Tick timers whose channel nobody
 * references any more (Go 1.23 collects unreferenced timers; here the user
 * drops every chan_unref()): the timer thread stops and frees them when it
 * next reaches them, so an unreferenced Tick no longer keeps the timer
 * thread alive, and gotime_shutdown() takes them out at once; new After and
 * Tick timers sweep the dropped ones out, so a time.After per iteration of
 * a loop does not pile up.  A Tick whose channel still has another holder
 * keeps ticking.
 *
 * "Freed" is observed through gotime__heap_reserved(): every timer object
 * holds one heap slot reservation until it is destroyed (with its channel);
 * under ASan, LeakSanitizer checks the rest.
 */
#include <pthread.h>
#include <stdlib.h>

#include "tests/leakcheck.h"
#include "tests/test_time_util.h"
#include "timer/timer_internal.h"

TU_LEAK_CHECKED_SUITE(time_orphan);

/* The timer thread exits and leaves no timer object behind. */
static void assert_all_gone(const char *what)
{
	cr_assert_eq(gotime__wait_thread_exit(chan_now() + TT_PATIENCE), 0,
		     "%s: the timer thread did not exit", what);
	cr_assert_eq(gotime__pending(), 0, "%s: a timer is still pending", what);
	cr_assert_eq(gotime__heap_reserved(), 0, "%s: a timer object was not freed", what);
}

/* The regression this is for: an unreferenced Tick kept the timer thread
 * (and the ticker) alive for the life of the process. */
Test(time_orphan, unreferenced_tick_stops_thread_exits, .timeout = 30)
{
	for (int i = 0; i < 20; i++) {
		chan_t *c = gotime_tick(TT_MS);
		cr_assert_not_null(c);
		cr_assert_eq(gotime__threads_live(), 1);
		/* Dropped before its first tick, or after some. */
		for (int k = 0; k < i % 3; k++)
			tt_recv(c);
		cr_assert_eq(gotime__pending(), 1, "a referenced Tick is pending");
		cr_assert_eq(chan_unref(c), 0);
		assert_all_gone("unreferenced Tick");
	}
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__heap_capacity(), 0);
}

/* Only the count reaching the timer's own reference stops it: a second
 * holder keeps the ticker running after the first lets go. */
Test(time_orphan, tick_with_another_holder_keeps_ticking, .timeout = 30)
{
	for (int i = 0; i < 5; i++) {
		chan_t *c = gotime_tick(TT_MS);
		cr_assert_not_null(c);
		chan_t *c2 = chan_ref(c);
		cr_assert_eq(chan_unref(c), 0);
		int64_t a = tt_recv(c2), b = tt_recv(c2), e = tt_recv(c2);
		cr_assert(a < b && b < e);
		cr_assert_eq(gotime__pending(), 1);
		cr_assert_eq(chan_unref(c2), 0);
		assert_all_gone("Tick after its second holder let go");
	}
}

/* An After dropped before it is due: nothing is delivered to anyone, and
 * the timer goes with its firing. */
Test(time_orphan, unreferenced_after_freed_when_due, .timeout = 30)
{
	for (int i = 0; i < 20; i++) {
		chan_t *c = gotime_after(i % 2 ? TT_MS : 1);
		cr_assert_not_null(c);
		cr_assert_eq(chan_unref(c), 0);
		assert_all_gone("unreferenced After");
	}
	/* d <= 0: the value was sent in the call; dropping it frees all. */
	chan_t *c = gotime_after(0);
	cr_assert_not_null(c);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_eq(gotime__heap_reserved(), 0);
}

/* gotime_shutdown() does not wait an hour for an unreferenced Tick/After:
 * it stops and frees them at once (more of them than one internal batch),
 * and still reports EBUSY while anyone holds one. */
Test(time_orphan, shutdown_frees_unreferenced_tick_and_after, .timeout = 30)
{
	enum {
		N = 150
	};
	chan_t *ticks[N], *afters[N];
	for (int i = 0; i < N; i++) {
		ticks[i] = gotime_tick(TT_FAR + i);
		afters[i] = gotime_after(TT_FAR - i);
		cr_assert(ticks[i] && afters[i]);
	}
	cr_assert_eq(gotime__pending(), 2 * N);
	cr_assert_eq(gotime_shutdown(), EBUSY, "referenced Tick/After timers are pending");
	for (int i = 0; i < N; i++)
		cr_assert_eq(chan_unref(ticks[i]), 0);
	cr_assert_eq(gotime_shutdown(), EBUSY, "referenced After timers are pending");
	cr_assert_eq(gotime__pending(), N, "shutdown took the unreferenced Ticks out");
	for (int i = 0; i < N - 1; i++)
		cr_assert_eq(chan_unref(afters[i]), 0);
	cr_assert_eq(gotime_shutdown(), EBUSY, "one After is still referenced");
	cr_assert_eq(gotime__pending(), 1);
	cr_assert(!tt_ready(afters[N - 1], NULL), "the survivor is still pending");
	cr_assert_eq(chan_unref(afters[N - 1]), 0);
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__threads_live(), 0);
	cr_assert_eq(gotime__pending(), 0);
	cr_assert_eq(gotime__heap_reserved(), 0, "the orphans were not freed");
	cr_assert_eq(gotime__heap_capacity(), 0, "heap storage kept after shutdown");
}

/* Unreferenced Ticks and handle-held timers side by side: shutdown frees the
 * orphans and leaves the rest alone (EBUSY), which keep working. */
Test(time_orphan, shutdown_leaves_other_timers, .timeout = 30)
{
	gotime_ticker_t *tk = gotime_ticker_new(TT_FAR);
	gotime_timer_t *t = gotime_timer_new(TT_FAR);
	chan_t *c = gotime_tick(TT_FAR);
	cr_assert(tk && t && c);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_eq(gotime_shutdown(), EBUSY);
	cr_assert_eq(gotime__pending(), 2, "only the Tick is an orphan");
	cr_assert(gotime_timer_reset(t, TT_MS));
	tt_recv(gotime_timer_chan(t));
	cr_assert_eq(gotime_ticker_reset(tk, TT_MS), 0);
	tt_recv(gotime_ticker_chan(tk));
	gotime_ticker_free(tk);
	gotime_timer_free(t);
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__heap_reserved(), 0);
}

/* Shutdown taking an orphaned fast Tick out of the heap while the timer
 * thread is firing it (a 1 us period keeps it popping and re-arming). */
Test(time_orphan, shutdown_races_firing_orphan, .timeout = 60)
{
	for (int i = 0; i < 200; i++) {
		chan_t *c = gotime_tick(GOTIME_MICROSECOND);
		cr_assert_not_null(c);
		if (i % 2)
			tt_recv(c);
		cr_assert_eq(chan_unref(c), 0);
		int rc = gotime_shutdown();
		cr_assert_eq(rc, 0, "iteration %d: shutdown %d", i, rc);
		cr_assert_eq(gotime__threads_live(), 0);
		cr_assert_eq(gotime__heap_reserved(), 0, "iteration %d: not freed", i);
	}
}

/* Threads receiving from their own Ticks and Afters and dropping them at
 * random moments, against the timer thread's ticks: everything is freed. */
struct churn {
	unsigned seed;
	long bad;
};

static void *churn_fn(void *p)
{
	struct churn *a = p;
	for (int i = 0; i < 200; i++) {
		int64_t d = 1 + rand_r(&a->seed) % (50 * GOTIME_MICROSECOND);
		chan_t *c = i % 2 ? gotime_tick(d) : gotime_after(d);
		int64_t v;
		bool ok = false;
		if (!c) {
			a->bad++;
			continue;
		}
		for (int k = rand_r(&a->seed) % 3; k > 0; k--) {
			if (chan_recv_until(c, &v, &ok, chan_now() + TT_PATIENCE) || !ok)
				a->bad++;
			if (i % 2 == 0) /* an After delivers once */
				break;
		}
		if (chan_unref(c))
			a->bad++;
	}
	return NULL;
}

Test(time_orphan, concurrent_drop, .timeout = 60)
{
	enum {
		T = 3
	};
	tu_go_t th[T];
	struct churn a[T];
	for (int i = 0; i < T; i++) {
		a[i] = (struct churn){.seed = (unsigned)i + 7};
		th[i] = tu_spawn(churn_fn, &a[i]);
	}
	for (int i = 0; i < T; i++)
		tu_join(th[i]);
	for (int i = 0; i < T; i++)
		cr_assert_eq(a[i].bad, 0, "worker %d: %ld failures", i, a[i].bad);
	assert_all_gone("dropped Ticks and Afters");
	cr_assert_eq(gotime_shutdown(), 0);
}

/* time.After in a select loop, dropped each time round (the Go idiom
 * `select { case v := <-in: ...; case <-time.After(time.Minute): }`): Go
 * 1.23 collects each unreferenced timer at once; here the creations sweep
 * the orphans out of the heap, so the timer objects alive stay bounded by
 * the live ones, not by the iterations until the first one is due (an hour
 * here: none fires during the test).  The bound is a count of objects, the
 * same on any machine: the sweep follows creations, not the clock. */
Test(time_orphan, after_in_a_loop_stays_bounded, .timeout = 60)
{
	enum {
		N = 20000,
		LIVE = 10
	};
	chan_t *live[LIVE];
	size_t peak = 0;

	/* A few Afters that stay referenced: never swept. */
	for (int i = 0; i < LIVE; i++)
		cr_assert_not_null(live[i] = gotime_after(TT_FAR));
	for (int i = 0; i < N; i++) {
		chan_t *c = gotime_after(TT_FAR);
		cr_assert_not_null(c);
		cr_assert_eq(chan_unref(c), 0);
		size_t r = gotime__heap_reserved();
		if (r > peak)
			peak = r;
	}
	/* At most the sweep's threshold of orphans beside the live timers. */
	cr_assert_leq(peak, 2 * LIVE + 2 * GOTIME__ORPHAN_SWEEP_MIN + 1,
		      "%zu timer objects alive at the peak for %d live Afters", peak, LIVE);
	for (int i = 0; i < LIVE; i++) {
		int64_t v;
		cr_assert_eq(chan_try_recv(live[i], &v, NULL), EAGAIN, "a live After fired early");
		cr_assert_eq(chan_unref(live[i]), 0);
	}
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__heap_reserved(), 0);
}
