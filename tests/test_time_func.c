/*
 * tests/test_time_func.c - function timers: gotime_after_func_at (fn on the
 * timer thread, the hook contexts use) and gotime_after_func (Go's
 * time.AfterFunc: fn on a thread of its own).  Deadline order (the
 * deterministic half of Go's TestAfterQueuing), Stop/Reset return values,
 * free while the function runs, re-entrant calls from a callback.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tests/leakcheck.h"
#include "tests/test_bubble_util.h"
#include "tests/test_time_util.h"
#include "timer/timer_internal.h"

TB_SUITE(time_func);

/* Records what a callback saw, and signals a channel. */
struct rec {
	chan_t *done; /* closed by the callback (the callback owns a reference) */
	pthread_t thread;
	int64_t at;
	atomic_int runs;
};

static void rec_fn(void *p)
{
	struct rec *r = p;
	chan_t *done = r->done;
	r->thread = pthread_self();
	r->at = chan_now();
	/* relaxed: the channel close below is the synchronising edge */
	atomic_fetch_add_explicit(&r->runs, 1, memory_order_relaxed);
	/* *r is not touched after the close: the test may reuse it at once. */
	chan_close(done);
	chan_unref(done);
}

static void rec_init(struct rec *r, chan_t **mine)
{
	*mine = chan_new(0, 0);
	cr_assert_not_null(*mine);
	r->done = chan_ref(*mine);
	atomic_init(&r->runs, 0);
}

static void wait_closed(chan_t *c)
{
	bool ok = true;
	cr_assert_eq(chan_recv_until(c, NULL, &ok, chan_now() + TT_PATIENCE), 0,
		     "callback did not run");
	cr_assert(!ok);
}

Test(time_func, after_func_at_runs_on_timer_thread_not_early, .timeout = 10)
{
	struct rec a, b;
	chan_t *ca, *cb;
	rec_init(&a, &ca);
	rec_init(&b, &cb);
	int64_t da = chan_now() + 2 * TT_MS, db = chan_now() + 3 * TT_MS;
	gotime_timer_t *ta = gotime_after_func_at(da, rec_fn, &a);
	gotime_timer_t *tb = gotime_after_func_at(db, rec_fn, &b);
	cr_assert_not_null(ta);
	cr_assert_not_null(tb);
	cr_assert_null(gotime_timer_chan(ta), "a function timer has no channel");
	wait_closed(ca);
	wait_closed(cb);
	cr_assert_geq(a.at, da, "ran %lld ns early", (long long)(da - a.at));
	cr_assert_geq(b.at, db);
	cr_assert(!pthread_equal(a.thread, pthread_self()));
	cr_assert(pthread_equal(a.thread, b.thread), "two timer threads served one process");
	cr_assert(!gotime_timer_stop(ta), "Stop after it ran");
	gotime_timer_free(ta);
	gotime_timer_free(tb);
	chan_unref(ca);
	chan_unref(cb);
}

/* A deadline already passed runs soon, but never inside the call. */
Test(time_func, after_func_at_past_deadline, .timeout = 10)
{
	static const int64_t past[] = {0, -2, INT64_MIN}; /* -1 is CHAN_FOREVER: never */
	for (size_t i = 0; i < 3; i++) {
		struct rec r;
		chan_t *c;
		rec_init(&r, &c);
		gotime_timer_t *t = gotime_after_func_at(i == 0 ? chan_now() : past[i], rec_fn, &r);
		cr_assert_not_null(t);
		wait_closed(c);
		cr_assert(!pthread_equal(r.thread, pthread_self()));
		gotime_timer_free(t);
		chan_unref(c);
	}
}

/* CHAN_FOREVER means never (it used to be a past deadline here): the timer
 * is not armed, so the probe timer of tt_flush, due later than any past
 * deadline, runs while this one has not; Stop finds nothing pending; Reset
 * arms it. */
TB_TEST(time_func, after_func_at_forever_never_fires, .timeout = 10)
{
	struct rec r;
	chan_t *c;
	rec_init(&r, &c);
	gotime_timer_t *t = gotime_after_func_at(CHAN_FOREVER, rec_fn, &r);
	cr_assert_not_null(t);
	tt_flush(TT_MS);
	cr_assert_eq(chan_try_recv(c, NULL, NULL), EAGAIN, "the CHAN_FOREVER timer ran");
	cr_assert_not(gotime_timer_stop(t), "a CHAN_FOREVER timer was pending");
	cr_assert_not(gotime_timer_reset(t, 0));
	wait_closed(c);
	cr_assert_eq(atomic_load_explicit(&r.runs, memory_order_relaxed), 1);
	gotime_timer_free(t);
	chan_unref(c);
}

TB_TEST(time_func, null_fn_einval, .timeout = 10)
{
	errno = 0;
	cr_assert_null(gotime_after_func_at(chan_now(), NULL, NULL));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(gotime_after_func(1, NULL, NULL));
	cr_assert_eq(errno, EINVAL);
}

static void count_fn(void *p)
{
	/* relaxed: read after tt_flush, whose channel close orders it */
	atomic_fetch_add_explicit((atomic_int *)p, 1, memory_order_relaxed);
}

/* A Stop that returns true comes before the function runs, and then it never
 * runs.  On a loaded machine the 50 ms may pass before the Stop: then (and
 * only then) Stop may find it fired, return false, and the function runs. */
TB_TEST(time_func, stop_before_fire_never_runs, .timeout = 10)
{
	atomic_int n = 0;
	int fired = 0;
	for (int i = 0; i < 100; i++) {
		int64_t due = chan_now() + 50 * TT_MS; /* no later than the timer's */
		gotime_timer_t *t = i % 2 ? gotime_after_func_at(due, count_fn, &n)
					  : gotime_after_func(50 * TT_MS, count_fn, &n);
		cr_assert_not_null(t);
		if (!gotime_timer_stop(t)) {
			cr_assert_geq(chan_now(), due, "Stop of a pending function timer");
			fired++;
		}
		cr_assert(!gotime_timer_stop(t));
		gotime_timer_free(t);
	}
	tt_flush(51 * TT_MS);
	cr_assert_eq(gotime__wait_afterfuncs(chan_now() + TT_PATIENCE), 0);
	cr_assert_eq(atomic_load(&n), fired, "a stopped function ran (%d runs, %d fired)",
		     atomic_load(&n), fired);
	TB_EXACT(fired, 0); /* no virtual time passes between arming and Stop */
}

/* Stop/Reset racing the firing: Stop returns true exactly when fn does not
 * run (counted over many iterations aimed at the deadline). */
Test(time_func, stop_race_true_iff_not_run, .timeout = 30)
{
	unsigned seed = 7;
	atomic_int n = 0;
	int stopped = 0;
	const int N = 2000;
	for (int i = 0; i < N; i++) {
		int64_t d = chan_now() + rand_r(&seed) % 20000;
		gotime_timer_t *t = gotime_after_func_at(d, count_fn, &n);
		cr_assert_not_null(t);
		while (chan_now() < d - 10000 + rand_r(&seed) % 20000)
			; /* aim the Stop at the deadline */
		if (gotime_timer_stop(t))
			stopped++;
		gotime_timer_free(t);
	}
	tt_flush(1);
	cr_assert_eq(atomic_load(&n) + stopped, N, "ran %d + stopped %d != %d", atomic_load(&n),
		     stopped, N);
}

/* Function timers run in deadline order whatever the order of creation,
 * and Reset/Stop among many keep the heap consistent (randomised). */
struct order {
	int fired[600]; /* item indexes, in firing order */
	int n;
};
struct order_item {
	struct order *o;
	int index;
	int64_t lo, hi; /* the timer's deadline lies in [lo, hi]; only the test
			   thread touches these (order_fn records the index) */
};

static void order_fn(void *p)
{
	struct order_item *it = p;
	/* Runs on the one timer thread: no two callbacks at once.  tt_flush's
	 * channel close publishes the array to the test. */
	it->o->fired[it->o->n++] = it->index;
}

Test(time_func, deadline_order_randomised, .timeout = 30)
{
	enum {
		N = 600
	};
	static struct order o;
	static struct order_item items[N];
	static gotime_timer_t *ts[N];
	bool live[N];
	unsigned seed = 99;
	/* No timer fires while the loops below run, however long a loaded
	 * machine takes over them (a Stop or Reset of a fired timer would
	 * return false): the timer thread is held until they are done. */
	struct tu_timer_hold gate;
	cr_assert(tu_timer_hold(&gate, TT_PATIENCE), "the timer thread could not be held");
	int64_t base = chan_now() + 200 * TT_MS, maxw = 0;
	int expect = 0;

	o.n = 0;
	for (int i = 0; i < N; i++) {
		int64_t when = base + rand_r(&seed) % (20 * TT_MS);
		items[i] = (struct order_item){.o = &o, .index = i, .lo = when, .hi = when};
		ts[i] = gotime_after_func_at(when, order_fn, &items[i]);
		cr_assert_not_null(ts[i]);
		live[i] = true;
	}
	for (int i = 0; i < N; i++) {
		int k = rand_r(&seed) % 3;
		if (k == 0) {
			cr_assert(gotime_timer_stop(ts[i]));
			live[i] = false;
		} else if (k == 1) {
			/* Reset moves it to now() + d taken inside the call:
			 * bounded by the clock read before and after it, however
			 * long a loaded machine takes over the call.  The timer
			 * thread reads only the item's index, so the bounds may be
			 * written after the call. */
			int64_t d = 200 * TT_MS + rand_r(&seed) % (20 * TT_MS);
			int64_t before = chan_now();
			cr_assert(gotime_timer_reset(ts[i], d));
			items[i].lo = before + d;
			items[i].hi = chan_now() + d;
		}
	}
	for (int i = 0; i < N; i++)
		if (live[i]) {
			expect++;
			if (items[i].hi > maxw)
				maxw = items[i].hi;
		}
	cr_assert(tu_timer_release(&gate), "the timer thread did not go on");
	tt_flush(maxw - chan_now() + TT_MS);
	cr_assert_eq(o.n, expect, "%d callbacks ran, %d expected", o.n, expect);
	/* Fired after its predecessor, so its deadline is not earlier: with
	 * deadlines known as bounds, hi of the later >= lo of the earlier. */
	for (int i = 1; i < o.n; i++)
		cr_assert_geq(items[o.fired[i]].hi, items[o.fired[i - 1]].lo,
			      "callback %d out of deadline order", i);
	for (int i = 0; i < N; i++)
		gotime_timer_free(ts[i]);
}

/* AfterFunc: fn runs on a thread of its own, so it may block without
 * delaying other timers. */
struct blocker {
	chan_t *release; /* fn waits on it */
	chan_t *started; /* fn closes it on entry */
	pthread_t thread;
};

static void blocking_fn(void *p)
{
	struct blocker *b = p;
	b->thread = pthread_self();
	chan_close(b->started);
	chan_recv_until(b->release, NULL, NULL, chan_now() + TT_PATIENCE);
}

Test(time_func, after_func_own_thread_may_block, .timeout = 20)
{
	struct blocker b = {.release = chan_new(0, 0), .started = chan_new(0, 0)};
	gotime_timer_t *t = gotime_after_func(TT_MS, blocking_fn, &b);
	cr_assert_not_null(t);
	cr_assert_null(gotime_timer_chan(t));
	wait_closed(b.started);
	cr_assert_eq(gotime__afterfunc_live(), 1);
	/* fn is blocked; other timers still fire */
	int64_t t0 = chan_now();
	chan_t *c = gotime_after(TT_MS);
	cr_assert_geq(tt_recv(c), t0 + TT_MS);
	chan_unref(c);
	struct rec r;
	chan_t *rc;
	rec_init(&r, &rc);
	gotime_timer_t *probe = gotime_after_func_at(chan_now(), rec_fn, &r);
	wait_closed(rc);
	cr_assert(!pthread_equal(r.thread, b.thread), "AfterFunc ran on the timer thread");
	cr_assert(!gotime_timer_stop(t), "Stop after fn started");
	cr_assert_eq(chan_send(b.release, NULL), 0);
	/* Free the handle while fn may still be finishing: safe by contract. */
	gotime_timer_free(t);
	gotime_timer_free(probe);
	chan_unref(rc);
	/* The AfterFunc thread ends on its own once fn returns. */
	cr_assert_eq(gotime__wait_afterfuncs(chan_now() + TT_PATIENCE), 0);
	chan_unref(b.release);
	chan_unref(b.started);
}

/* AfterFunc Reset after it ran runs it once more; Reset while pending moves it. */
TB_TEST(time_func, after_func_reset, .timeout = 10)
{
	struct rec r;
	chan_t *c;
	rec_init(&r, &c);
	gotime_timer_t *t = gotime_after_func(TT_FAR, rec_fn, &r);
	cr_assert_not_null(t);
	int64_t t0 = chan_now();
	cr_assert(gotime_timer_reset(t, 2 * TT_MS), "Reset of a pending AfterFunc");
	wait_closed(c);
	cr_assert_geq(r.at, t0 + 2 * TT_MS);
	TB_EXACT(r.at, t0 + 2 * TT_MS);
	chan_unref(c);
	rec_init(&r, &c); /* runs back to 0, new channel */
	cr_assert(!gotime_timer_reset(t, 0), "Reset after it ran");
	wait_closed(c);
	cr_assert_eq(atomic_load(&r.runs), 1);
	chan_unref(c);
	gotime_timer_free(t);
	cr_assert_eq(gotime__wait_afterfuncs(chan_now() + TT_PATIENCE), 0);
}

/* gotime_timer_free while the callback runs on the timer thread: the
 * callback still sees a valid timer (it stops and frees nothing it does not
 * own), and nothing is used after free (ASan checks). */
struct inflight {
	chan_t *entered;
	chan_t *go_on;
	gotime_timer_t *self;
	bool stop_result;
};

static void inflight_fn(void *p)
{
	struct inflight *f = p;
	chan_close(f->entered);
	chan_recv_until(f->go_on, NULL, NULL, chan_now() + TT_PATIENCE);
	/* the handle is freed by now; this touches only our own struct */
}

Test(time_func, free_while_running, .timeout = 20)
{
	for (int i = 0; i < 20; i++) {
		struct inflight f = {.entered = chan_new(0, 0), .go_on = chan_new(0, 0)};
		gotime_timer_t *t = gotime_after_func_at(chan_now(), inflight_fn, &f);
		cr_assert_not_null(t);
		wait_closed(f.entered);
		cr_assert(!gotime_timer_stop(t), "Stop while running");
		gotime_timer_free(t); /* must not wait for fn, must not free under it */
		cr_assert_eq(chan_send(f.go_on, NULL), 0);
		tt_flush(0); /* the callback has returned */
		chan_unref(f.entered);
		chan_unref(f.go_on);
	}
}

/* A callback may use the timer API: stop/free itself, arm new timers. */
struct reentrant {
	gotime_timer_t *self;
	gotime_timer_t *child;
	chan_t *armed; /* closed once self is stored */
	chan_t *done;
	bool self_stop;
	bool child_reset;
	int depth;
};

static void reentrant_fn(void *p)
{
	struct reentrant *r = p;
	if (r->depth == 0)
		chan_recv_until(r->armed, NULL, NULL, chan_now() + TT_PATIENCE);
	r->self_stop |= gotime_timer_stop(r->self);
	r->child_reset |= gotime_timer_reset(r->child, 0);
	gotime_timer_free(r->self);
	r->self = NULL;
	if (++r->depth < 5) {
		/* It cannot run before this callback returns (one timer
		 * thread), so storing the handle here is in time. */
		r->self = gotime_after_func_at(chan_now(), reentrant_fn, r);
	} else {
		chan_close(r->done);
	}
}

TB_TEST(time_func, callbacks_reenter_api, .timeout = 10)
{
	static struct reentrant r;
	r.done = chan_new(0, 0);
	r.armed = chan_new(0, 0);
	r.child = gotime_timer_new(TT_FAR);
	r.depth = 0;
	cr_assert_not_null(r.child);
	r.self = gotime_after_func_at(chan_now(), reentrant_fn, &r);
	cr_assert_not_null(r.self);
	chan_close(r.armed);
	wait_closed(r.done);
	cr_assert(!r.self_stop, "a timer stopping itself in its callback");
	cr_assert(r.child_reset, "the first Reset of a pending timer");
	cr_assert_eq(r.depth, 5);
	cr_assert_null(r.self);
	cr_assert(tt_ready(gotime_timer_chan(r.child), NULL), "Reset(0) from a callback");
	gotime_timer_free(r.child);
	chan_unref(r.done);
	chan_unref(r.armed);
}

/* A function that frees its own handle, armed only after the handle is
 * stored (the reset happens before fn runs), so that even d == 0 cannot
 * start fn before it can find the handle: the idiom the porting guide gave
 * for Go's fire-and-forget time.AfterFunc before gotime_after_func_detached
 * and gotime_timer_release (tests/test_time_release.c), still valid.  Every
 * fn runs once, and no timer object is left (the leak check and the heap's
 * reservations). */
struct forget {
	gotime_timer_t *t;
	chan_t *done; /* the test's: outlives every job */
	int n;
};

static void forget_fn(void *p)
{
	struct forget *j = p;
	/* No assertion here (not the test's thread): -1 reports a handle
	 * that was not stored yet. */
	int v = j->t ? j->n : -1;

	(void)chan_send(j->done, &v);
	gotime_timer_free(j->t);
	free(j);
}

Test(time_func, fire_and_forget_frees_itself, .timeout = 30)
{
	enum {
		N = 64
	};
	chan_t *done = chan_new(sizeof(int), N);
	int seen[N] = {0};

	for (int i = 0; i < N; i++) {
		struct forget *j = calloc(1, sizeof *j);
		cr_assert_not_null(j);
		j->done = done;
		j->n = i;
		j->t = gotime_after_func(INT64_MAX, forget_fn, j);
		cr_assert_not_null(j->t);
		cr_assert_eq(gotime_timer_reset(j->t, i % 2 ? 0 : TT_MS), true,
			     "the far timer was pending");
	}
	for (int i = 0; i < N; i++) {
		int v;
		cr_assert_eq(chan_recv(done, &v, NULL), 0);
		cr_assert_neq(v, -1, "fn ran before its handle was stored");
		cr_assert(v >= 0 && v < N && !seen[v]++, "job %d ran twice", v);
	}
	cr_assert_eq(chan_unref(done), 0);
	/* The functions have sent; their frees follow: wait for the threads. */
	cr_assert_eq(gotime__wait_afterfuncs(chan_now() + TT_PATIENCE), 0);
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__heap_reserved(), 0, "a handle was not freed");
}
