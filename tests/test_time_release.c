/*
 * tests/test_time_release.c - dropping a timer's handle without stopping the
 * timer (Go: a Timer nobody references): gotime_timer_release() and
 * gotime_after_func_detached() (Go's fire-and-forget time.AfterFunc).
 *
 * What must hold: a released pending AfterFunc runs its function exactly
 * once and the library frees the timer after it (no leak: the heap slot
 * count, gotime__heap_reserved(), returns to 0); a release after the timer
 * fired or was stopped frees it at once and nothing runs again; a released
 * channel timer still sends to a channel someone references, and is an
 * orphan (stopped, freed) once nobody does; in a bubble a released timer
 * fires at its exact virtual time.  Many threads releasing timers while
 * they fire: tests/stress/stress_time.c phase 10 (under TSan) and
 * race_release_while_firing below (under ASan: `zig build asan`).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tests/leakcheck.h"
#include "tests/test_bubble_util.h"
#include "tests/test_time_util.h"
#include "timer/timer_internal.h"

TB_SUITE(time_release);

/* What a function saw: its index and its (virtual in a bubble) time, sent
 * on a channel the job references; the job is the function's to free. */
struct job {
	chan_t *out; /* (int64_t[2]) {index, chan_now()} */
	int64_t index;
};

static void job_fn(void *p)
{
	struct job *j = p;
	int64_t v[2] = {j->index, chan_now()};

	/* abort(), not cr_assert: this runs on an AfterFunc thread or fiber,
	 * where Criterion's longjmp must not go. */
	if (chan_send(j->out, &v) != 0)
		abort();
	chan_unref(j->out);
	free(j);
}

static struct job *job_new(chan_t *out, int64_t index)
{
	struct job *j = malloc(sizeof *j);

	cr_assert_not_null(j);
	j->out = chan_ref(out);
	j->index = index;
	return j;
}

/* Once every function has returned, no timer object is left.  On threads,
 * the AfterFunc threads are waited for, and then gotime_shutdown(): a
 * firing the timer thread has popped may still hold its reference for a
 * moment after its function (tt_flush's probe's, too), and shutdown waits
 * for the thread to finish what it carries out.  (It would also free
 * orphans: the tests that rely on the firing to free one check first that
 * it left the heap.)  In a bubble the firing is done, on the worker, before
 * the fiber it readied runs. */
static void assert_all_freed(void)
{
	if (!tb_in_bubble()) {
		cr_assert_eq(gotime__wait_afterfuncs(chan_now() + TT_PATIENCE), 0);
		cr_assert_eq(gotime_shutdown(), 0, "a timer is still pending");
	}
	cr_assert_eq(gotime__heap_reserved(), 0, "a released timer was not freed");
}

/* Go's `time.AfterFunc(d, f)` with the Timer dropped: each function runs
 * exactly once, at (in a bubble: exactly) its time, and frees nothing of
 * the timer's: the library does. */
TB_TEST(time_release, detached_runs_once, .timeout = 20)
{
	enum {
		N = 32
	};
	chan_t *out = chan_new(sizeof(int64_t[2]), N);
	bool seen[N] = {0};
	int64_t t0 = chan_now();

	for (int i = 0; i < N; i++)
		cr_assert_eq(gotime_after_func_detached(i % 4 * TT_MS, job_fn, job_new(out, i)), 0);
	for (int i = 0; i < N; i++) {
		int64_t v[2];
		bool ok = false;

		cr_assert_eq(chan_recv_until(out, &v, &ok, chan_now() + TT_PATIENCE), 0);
		cr_assert(v[0] >= 0 && v[0] < N && !seen[v[0]], "job %lld ran twice",
			  (long long)v[0]);
		seen[v[0]] = true;
		cr_assert_geq(v[1], t0 + v[0] % 4 * TT_MS, "ran early");
		TB_EXACT(v[1], t0 + v[0] % 4 * TT_MS);
	}
	assert_all_freed();
	cr_assert_eq(chan_try_recv(out, NULL, NULL), EAGAIN, "a function ran twice");
	cr_assert_eq(chan_unref(out), 0);
}

TB_TEST(time_release, null_einval, .timeout = 10)
{
	cr_assert_eq(gotime_timer_release(NULL), EINVAL);
	cr_assert_eq(gotime_after_func_detached(TT_MS, NULL, NULL), EINVAL);
	cr_assert_eq(gotime__heap_reserved(), 0, "a failed call kept a timer");
}

/* A handle released while pending, from either AfterFunc form (a thread or
 * fiber of its own; the timer thread or the bubble's scheduler): it fires
 * once, when due, as if it were held. */
TB_TEST(time_release, release_pending_fires, .timeout = 20)
{
	chan_t *out = chan_new(sizeof(int64_t[2]), 2);
	int64_t t0 = chan_now();
	gotime_timer_t *a = gotime_after_func(2 * TT_MS, job_fn, job_new(out, 0));
	gotime_timer_t *b = gotime_after_func_at(t0 + 3 * TT_MS, job_fn, job_new(out, 1));

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_eq(gotime_timer_release(a), 0);
	cr_assert_eq(gotime_timer_release(b), 0);
	for (int i = 0; i < 2; i++) {
		int64_t v[2];

		cr_assert_eq(chan_recv_until(out, &v, NULL, chan_now() + TT_PATIENCE), 0);
		cr_assert_geq(v[1], t0 + (2 + v[0]) * TT_MS);
		TB_EXACT(v[1], t0 + (2 + v[0]) * TT_MS);
	}
	assert_all_freed();
	cr_assert_eq(chan_unref(out), 0);
}

/* Released after it fired: freed at once (or when its function returns);
 * nothing runs again. */
TB_TEST(time_release, release_after_fire, .timeout = 20)
{
	chan_t *out = chan_new(sizeof(int64_t[2]), 2);
	gotime_timer_t *t = gotime_after_func(0, job_fn, job_new(out, 0));
	int64_t v[2];

	cr_assert_not_null(t);
	cr_assert_eq(chan_recv_until(out, &v, NULL, chan_now() + TT_PATIENCE), 0);
	cr_assert_eq(gotime_timer_release(t), 0);
	assert_all_freed();
	tt_flush(TT_MS);
	cr_assert_eq(chan_try_recv(out, &v, NULL), EAGAIN, "ran again after the release");
	cr_assert_eq(chan_unref(out), 0);
}

static void count_fn(void *p)
{
	/* relaxed: read after tt_flush, whose channel orders it */
	atomic_fetch_add_explicit((atomic_int *)p, 1, memory_order_relaxed);
}

/* Released after a successful Stop, or never armed (CHAN_FOREVER): freed by
 * the release itself, and the function never runs. */
TB_TEST(time_release, release_after_stop, .timeout = 20)
{
	atomic_int runs = 0;
	gotime_timer_t *a = gotime_after_func(TT_MS, count_fn, &runs);
	gotime_timer_t *b = gotime_after_func_at(chan_now() + TT_MS, count_fn, &runs);
	gotime_timer_t *c = gotime_after_func_at(CHAN_FOREVER, count_fn, &runs);

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_not_null(c);
	/* On a thread a loaded machine may pass the 1 ms before the Stop: then
	 * (only then) Stop returns false and the function runs once. */
	int expect = !gotime_timer_stop(a) + !gotime_timer_stop(b);
	cr_assert_eq(gotime_timer_release(a), 0);
	cr_assert_eq(gotime_timer_release(b), 0);
	cr_assert_eq(gotime_timer_release(c), 0);
	if (tb_in_bubble())
		cr_assert_eq(expect, 0, "the virtual clock moved during the Stops");
	tt_flush(2 * TT_MS);
	assert_all_freed();
	cr_assert_eq(atomic_load_explicit(&runs, memory_order_relaxed), expect);
}

/* A function that releases its own handle: the idiom of time.h made with
 * INT64_MAX and armed once the handle is stored, still valid. */
struct self {
	gotime_timer_t *t;
	chan_t *out;
};

static void self_release_fn(void *p)
{
	struct self *s = p;
	int64_t v[2] = {0, chan_now()};

	if (gotime_timer_release(s->t) != 0 || chan_send(s->out, &v) != 0)
		abort();
}

TB_TEST(time_release, release_inside_fn, .timeout = 20)
{
	struct self s = {.out = chan_new(sizeof(int64_t[2]), 1)};
	int64_t v[2];

	s.t = gotime_after_func(INT64_MAX, self_release_fn, &s);
	cr_assert_not_null(s.t);
	cr_assert(gotime_timer_reset(s.t, TT_MS));
	cr_assert_eq(chan_recv_until(s.out, &v, NULL, chan_now() + TT_PATIENCE), 0);
	assert_all_freed();
	cr_assert_eq(chan_unref(s.out), 0);
}

/* A released channel timer whose channel nobody references is an orphan:
 * the release stops and frees it. */
TB_TEST(time_release, chan_timer_unreferenced_is_freed, .timeout = 10)
{
	gotime_timer_t *far = gotime_timer_new(TT_FAR);
	gotime_timer_t *now = gotime_timer_new(0); /* its value is already in */

	cr_assert_not_null(far);
	cr_assert_not_null(now);
	cr_assert_eq(gotime__pending(), 1);
	cr_assert_eq(gotime_timer_release(far), 0);
	cr_assert_eq(gotime_timer_release(now), 0);
	cr_assert_eq(gotime__pending(), 0, "the orphan stayed armed");
	cr_assert_eq(gotime__heap_reserved(), 0, "the orphan was not freed");
}

/* A released channel timer whose channel is still referenced sends its due
 * time there (Go: the Timer is dropped, t.C is still used), and goes with
 * the last reference. */
TB_TEST(time_release, chan_timer_referenced_still_sends, .timeout = 10)
{
	int64_t t0 = chan_now();
	gotime_timer_t *t = gotime_timer_new(2 * TT_MS);

	cr_assert_not_null(t);
	chan_t *c = chan_ref(gotime_timer_chan(t));
	cr_assert_eq(gotime_timer_release(t), 0);
	int64_t when = tt_recv(c);
	cr_assert_geq(when, t0 + 2 * TT_MS);
	TB_EXACT(when, t0 + 2 * TT_MS);
	cr_assert_eq(gotime__pending(), 0);
	cr_assert_eq(chan_unref(c), 0);
	assert_all_freed();
}

/* ... and once that reference is dropped before it is due, it is an orphan:
 * it sends nothing and is freed when the timer thread (the bubble) reaches
 * it.  "Before it is due" is checked, not assumed: on threads a slow
 * machine (qemu's arm64) can pass a millisecond between the creation and
 * the drop.  Still pending after the drop means it is an orphan in the heap
 * (pending never goes back up); if it fired first, the premise failed and
 * the case is made again with twice the time.  In a bubble the virtual
 * clock does not move here: once is enough. */
TB_TEST(time_release, chan_timer_dropped_later_is_freed, .timeout = 10)
{
	for (int64_t d = TT_MS;; d *= 2) {
		gotime_timer_t *t = gotime_timer_new(d);

		cr_assert_not_null(t);
		chan_t *c = chan_ref(gotime_timer_chan(t));
		cr_assert_eq(gotime_timer_release(t), 0);
		cr_assert_eq(chan_unref(c), 0);
		if (gotime__pending() == 1) {
			tt_flush(2 * d);
			cr_assert_eq(gotime__pending(), 0, "the orphan was not taken when due");
			break;
		}
		/* Not pending: it fired before the drop, or the release stopped
		 * it.  A timer of TT_PATIENCE ("beyond any real wait") that was
		 * not pending a moment after its creation was stopped. */
		cr_assert(!tb_in_bubble() && d < TT_PATIENCE,
			  "a referenced released timer was stopped");
		assert_all_freed(); /* it fired and went with its channel */
	}
	assert_all_freed();
}

/* Far released timers whose channels are then dropped are swept out by
 * later After creations, as dropped Afters are (timer_impl.h "Orphans"):
 * a count, not a time.  Threads only: a bubble's timers are its own. */
Test(time_release, released_orphans_are_swept, .timeout = 20)
{
	enum {
		N = 1000,
		AFTERS = 4 * GOTIME__ORPHAN_SWEEP_MIN
	};
	chan_t **cs = malloc(N * sizeof *cs);

	cr_assert_not_null(cs);
	for (int i = 0; i < N; i++) {
		gotime_timer_t *t = gotime_timer_new(TT_FAR);
		cr_assert_not_null(t);
		cs[i] = chan_ref(gotime_timer_chan(t));
		cr_assert_eq(gotime_timer_release(t), 0);
	}
	cr_assert_eq(gotime__pending(), N, "a referenced released timer was stopped");
	for (int i = 0; i < N; i++)
		cr_assert_eq(chan_unref(cs[i]), 0);
	free(cs);
	/* Without the sweep all N would stay until due (an hour). */
	for (int i = 0; i < N + AFTERS; i++) {
		chan_t *c = gotime_after(TT_FAR);
		cr_assert_not_null(c);
		cr_assert_eq(chan_unref(c), 0);
	}
	cr_assert_leq(gotime__heap_reserved(), 2 * GOTIME__ORPHAN_SWEEP_MIN,
		      "%zu timer objects left", gotime__heap_reserved());
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__heap_reserved(), 0);
}

/* Released AfterFuncs count as held ones do: shutdown is EBUSY while one is
 * pending or its function runs (here it waits on a gate the test opens),
 * and 0 once it has returned.  Threads only (the timer thread's life). */
static void gated_fn(void *p)
{
	chan_t *gate = p;

	if (chan_recv(gate, NULL, NULL) != 0)
		abort();
	chan_unref(gate);
}

Test(time_release, shutdown_counts_released, .timeout = 20)
{
	chan_t *gate = chan_new(0, 0);

	cr_assert_eq(gotime_after_func_detached(0, gated_fn, chan_ref(gate)), 0);
	/* Pending (in the heap) or running (counted in gotime__afterfuncs):
	 * either way not done. */
	cr_assert_eq(gotime_shutdown(), EBUSY, "a released AfterFunc was not counted");
	cr_assert_eq(chan_send(gate, NULL), 0); /* it has started and takes it */
	cr_assert_eq(gotime__wait_afterfuncs(chan_now() + TT_PATIENCE), 0);
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__heap_reserved(), 0);
	cr_assert_eq(chan_unref(gate), 0);
}

/* Threads releasing AfterFunc handles while the timers fire (each release
 * aimed near the expiry by a spin on the clock): every function runs
 * exactly once, every timer is freed once (ASan: no use after free, no
 * double free, no leak). */
enum {
	RACE_T = 3,
	RACE_N = 300
};

struct racer {
	unsigned seed;
	atomic_int *runs;
};

static void *race_worker(void *p)
{
	struct racer *r = p;

	for (int i = 0; i < RACE_N; i++) {
		int64_t d = rand_r(&r->seed) % (20 * GOTIME_MICROSECOND);
		int64_t dl = chan_now() + d;
		gotime_timer_t *t = i % 2 ? gotime_after_func(d, count_fn, r->runs)
					  : gotime_after_func_at(dl, count_fn, r->runs);
		if (!t)
			return (void *)1;
		while (chan_now() <
		       dl - 10 * GOTIME_MICROSECOND + rand_r(&r->seed) % (20 * GOTIME_MICROSECOND))
			;
		if (gotime_timer_release(t) != 0)
			return (void *)1;
	}
	return NULL;
}

Test(time_release, race_release_while_firing, .timeout = 60)
{
	tu_go_t th[RACE_T];
	struct racer r[RACE_T];
	atomic_int runs = 0;

	for (int i = 0; i < RACE_T; i++) {
		r[i] = (struct racer){.seed = (unsigned)i + 11, .runs = &runs};
		th[i] = tu_spawn(race_worker, &r[i]);
	}
	for (int i = 0; i < RACE_T; i++)
		cr_assert_null(tu_join(th[i]));
	tt_flush(0);
	cr_assert_eq(gotime__wait_afterfuncs(chan_now() + TT_PATIENCE), 0);
	cr_assert_eq(atomic_load_explicit(&runs, memory_order_acquire), RACE_T * RACE_N,
		     "a released function was lost or ran twice");
	cr_assert_eq(gotime_shutdown(), 0);
	cr_assert_eq(gotime__heap_reserved(), 0);
}
