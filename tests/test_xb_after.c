/*
 * tests/test_xb_after.c - crossbeam-channel's tests/after.rs ported to
 * gotime_after (include/gochan/time.h: Go 1.23's time.After).
 *
 * Mapping, Go's semantics where crossbeam's differ:
 *   after(d)          gotime_after(d): the caller owns one reference
 *                     (chan_unref when done); the value is an int64_t, the
 *                     chan_now() time the timer was DUE (crossbeam's is the
 *                     Instant it was due too)
 *   capacity() Some(1), len() 1 once fired
 *                     Go 1.23: cap 0 and len 0 always (a timer channel
 *                     looks unbuffered); the port asserts Go's values
 *   r.clone()/drop    chan_ref / chan_unref
 * Time.  crossbeam sleeps "long enough" for a timer to fire and bounds
 * elapsed time from above (<= 150 ms); the ports assert only what no
 * machine speed can break: a value is never early (due - start >= d, and
 * no value before the due time), a timer fires exactly once, and "it has
 * fired by now" is waited for with tu_timers_flush (the timer thread has
 * handled every timer due before a time), not a sleep.  A check that a
 * timer has NOT fired yet uses a duration far beyond any stall (10 s) or
 * accepts a value only if the due time had passed.
 *
 * Ported: fire, capacity, len_empty_full, try_recv, recv, recv_timeout,
 * recv_two, recv_race, stress_default, select, stress_clone, fairness,
 * fairness_duplicates (13).
 * Skipped (1): ready: gochan has no non-consuming readiness wait
 * (crossbeam's Select::ready); chan_select always performs the operation.
 * Changed: recv_race parks its select (timer thread held) before either
 * timer can fire, so "the earlier timer wins" does not depend on the
 * machine being fast; fairness's 1 ms round first lets both timers fire
 * (Go's fairness is among the cases ready at the call: a select that is
 * already parked is claimed by whichever timer is delivered first).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <stdlib.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_after);

#define SEC ((int64_t)1000000000)

/* Wait until every timer due before now + @d has been delivered. */
static void flush(int64_t d)
{
	cr_assert(tu_timers_flush(d, XB_PATIENCE), "the timer thread never caught up");
}

Test(xb_after, fire, .timeout = 60)
{
	int64_t start = chan_now();
	chan_t *r = gotime_after(50 * XB_MS);
	int64_t fired = 0;
	bool ok;
	if (chan_try_recv(r, &fired, &ok) == 0) { /* Empty, unless 50 ms passed */
		cr_assert_geq(chan_now() - start, 50 * XB_MS);
	} else {
		flush(50 * XB_MS);
		cr_assert_eq(chan_try_recv(r, &fired, &ok), 0);
	}
	cr_assert(ok);
	cr_assert_lt(start, fired);
	cr_assert_geq(fired - start, 50 * XB_MS);
	cr_assert_lt(fired, chan_now());
	cr_assert_eq(chan_try_recv(r, &fired, NULL), EAGAIN); /* once only */
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r, &fired, NULL)), CHAN_DEFAULT);
	int64_t t0 = chan_now();
	chan_t *a = gotime_after(20 * XB_MS);
	cr_assert_eq(
		CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r, &fired, NULL), CHAN_RECV(a, &fired, NULL)),
		1);
	cr_assert_geq(fired - t0, 20 * XB_MS);
	cr_assert_eq(chan_unref(a), 0);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_after, capacity)
{
	for (int i = 0; i < 10; i++) {
		chan_t *r = gotime_after(i * XB_MS);
		cr_assert_eq(chan_cap(r), 0); /* Go 1.23; crossbeam: Some(1) */
		cr_assert_eq(chan_unref(r), 0);
	}
}

Test(xb_after, len_empty_full, .timeout = 60)
{
	chan_t *r = gotime_after(50 * XB_MS);
	cr_assert_eq(chan_len(r), 0);
	flush(50 * XB_MS);
	cr_assert_eq(chan_len(r), 0); /* Go 1.23: len 0 even with a value */
	int64_t v;
	cr_assert_eq(chan_try_recv(r, &v, NULL), 0);
	cr_assert_eq(chan_len(r), 0);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_after, try_recv, .timeout = 60)
{
	int64_t start = chan_now();
	chan_t *r = gotime_after(200 * XB_MS);
	int64_t v = 0;
	int got = 0;
	for (int k = 0; k < 2; k++) /* crossbeam: at once and after 100 ms */
		if (chan_try_recv(r, &v, NULL) == 0) {
			got++;
			cr_assert_geq(chan_now() - start, 200 * XB_MS);
		}
	flush(200 * XB_MS);
	got += chan_try_recv(r, &v, NULL) == 0;
	cr_assert_eq(got, 1);
	cr_assert_geq(v - start, 200 * XB_MS);
	cr_assert_eq(chan_try_recv(r, &v, NULL), EAGAIN);
	flush(0);
	cr_assert_eq(chan_try_recv(r, &v, NULL), EAGAIN);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_after, recv, .timeout = 60)
{
	int64_t start = chan_now();
	chan_t *r = gotime_after(50 * XB_MS);
	int64_t fired = 0;
	cr_assert_eq(chan_recv(r, &fired, NULL), 0);
	cr_assert_lt(start, fired);
	cr_assert_geq(fired - start, 50 * XB_MS);
	cr_assert_lt(fired, chan_now());
	cr_assert_eq(chan_try_recv(r, &fired, NULL), EAGAIN);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_after, recv_timeout, .timeout = 60)
{
	int64_t start = chan_now();
	chan_t *r = gotime_after(100 * XB_MS);
	int64_t fired = 0;
	int rc = chan_recv_until(r, &fired, NULL, chan_now() + 50 * XB_MS);
	if (rc == 0) { /* only if the 100 ms had passed */
		cr_assert_geq(chan_now() - start, 100 * XB_MS);
	} else {
		cr_assert_eq(rc, ETIMEDOUT);
		cr_assert_geq(chan_now() - start, 50 * XB_MS);
		cr_assert_eq(chan_recv_until(r, &fired, NULL, chan_now() + XB_PATIENCE), 0);
	}
	cr_assert_geq(fired - start, 100 * XB_MS);
	int64_t t1 = chan_now();
	cr_assert_eq(chan_recv_until(r, &fired, NULL, t1 + 100 * XB_MS), ETIMEDOUT);
	cr_assert_geq(chan_now() - t1, 100 * XB_MS);
	cr_assert_eq(chan_try_recv(r, &fired, NULL), EAGAIN);
	cr_assert_eq(chan_unref(r), 0);
}

struct two {
	chan_t *r1, *r2;
};
static void *recv_two_sel(void *p)
{
	struct two *t = p;
	int64_t v;
	int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(t->r1, &v, NULL),
			    CHAN_RECV(t->r2, &v, NULL));
	XB_CHECK(k == 0 || k == 1);
	return (void *)(intptr_t)k;
}
Test(xb_after, recv_two, .timeout = 60)
{
	struct two t = {gotime_after(50 * XB_MS), gotime_after(50 * XB_MS)};
	tu_go_t a = tu_spawn(recv_two_sel, &t), b = tu_spawn(recv_two_sel, &t);
	intptr_t ka = (intptr_t)tu_join(a), kb = (intptr_t)tu_join(b);
	XB_ASSERT_OK();
	cr_assert_neq(ka, kb, "each timer fires once: one select gets each");
	cr_assert_eq(chan_unref(t.r1), 0);
	cr_assert_eq(chan_unref(t.r2), 0);
}

/* recv_race: of two timers, the earlier fires first.  The timer thread is
 * held while the select parks, so neither can have fired before. */
struct race {
	chan_t *early, *late;
	bool early_first;
	tu_blocker_t blk;
};
static void *race_sel(void *p)
{
	struct race *r = p;
	int64_t v;
	tu_about_to_block(&r->blk);
	int k = r->early_first
			? CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(r->early, &v, NULL),
				      CHAN_RECV(r->late, &v, NULL))
			: CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(r->late, &v, NULL),
				      CHAN_RECV(r->early, &v, NULL));
	XB_CHECK(k == (r->early_first ? 0 : 1));
	return NULL;
}
Test(xb_after, recv_race, .timeout = 60)
{
	for (int i = 0; i < 2; i++) {
		struct tu_timer_hold h;
		cr_assert(tu_timer_hold(&h, XB_PATIENCE));
		struct race r = {gotime_after(50 * XB_MS), gotime_after(100 * XB_MS), i == 0,
				 TU_BLOCKER_INIT};
		tu_go_t g = tu_spawn(race_sel, &r);
		cr_assert(xb_wait_blocked(&r.blk, TU_BLOCK_TIMEOUT_NS));
		cr_assert(tu_timer_release(&h));
		tu_join(g);
		cr_assert_eq(chan_unref(r.early), 0);
		cr_assert_eq(chan_unref(r.late), 0);
	}
	XB_ASSERT_OK();
}

Test(xb_after, stress_default, .timeout = 60)
{
	int64_t v;
	for (int i = 0; i < 10; i++) {
		chan_t *r = gotime_after(0); /* fired before gotime_after returns */
		cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r, &v, NULL)), 0);
		cr_assert_eq(chan_unref(r), 0);
	}
	for (int i = 0; i < 10; i++) {
		/* crossbeam: after(100 ms).  A 10 s After would keep the timer
		 * thread alive past the suite's leak check: a Timer is stopped. */
		gotime_timer_t *t = gotime_timer_new(10 * SEC);
		cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(gotime_timer_chan(t), &v, NULL)),
			     CHAN_DEFAULT);
		cr_assert(gotime_timer_stop(t));
		gotime_timer_free(t);
	}
}

/* select: 4 goroutines select over 1,000 timers (due in 0-4 ms) and a
 * 100 ms timeout; every timer's value is received exactly once.  A
 * goroutine leaves on its timeout only once nothing is left: every timer
 * was due long before, the flush makes sure all were delivered, and a
 * non-blocking select finds none. */
#define SEL_THREADS 4
#define SEL_COUNT 1000
struct sel {
	chan_t *v[SEL_COUNT];
	atomic_int hits;
};
static void *sel_worker(void *p)
{
	struct sel *s = p;
	chan_case_t *cs = calloc(SEL_COUNT + 1, sizeof *cs);
	int64_t val;
	for (int i = 0; i < SEL_COUNT; i++)
		cs[i] = CHAN_RECV(s->v[i], &val, NULL);
	for (;;) {
		chan_t *timeout = gotime_after(100 * XB_MS);
		cs[SEL_COUNT] = CHAN_RECV(timeout, &val, NULL);
		int k = chan_select(cs, SEL_COUNT + 1, chan_now() + XB_PATIENCE);
		XB_CHECK(k >= 0 && k <= SEL_COUNT);
		if (k == SEL_COUNT) {
			XB_CHECK(tu_timers_flush(0, XB_PATIENCE));
			k = chan_select(cs, SEL_COUNT, CHAN_NOWAIT);
		}
		XB_CHECK(chan_unref(timeout) == 0);
		if (k < 0 || k >= SEL_COUNT)
			break;
		atomic_fetch_add_explicit(&s->hits, 1, memory_order_relaxed);
	}
	free(cs);
	return NULL;
}
Test(xb_after, select, .timeout = 120)
{
	struct sel *s = calloc(1, sizeof *s);
	for (int i = 0; i < SEL_COUNT; i++)
		s->v[i] = gotime_after((i / 100 / 2) * XB_MS);
	tu_go_t t[SEL_THREADS];
	for (int i = 0; i < SEL_THREADS; i++)
		t[i] = tu_spawn(sel_worker, s);
	for (int i = 0; i < SEL_THREADS; i++)
		tu_join(t[i]);
	XB_ASSERT_OK();
	cr_assert_eq(atomic_load(&s->hits), SEL_COUNT);
	for (int i = 0; i < SEL_COUNT; i++)
		cr_assert_eq(chan_unref(s->v[i]), 0);
	free(s);
}

/* stress_clone: references taken and dropped while the timer may fire. */
static void *clone_worker(void *p)
{
	chan_t *r = chan_ref(p);
	int64_t v;
	int rc = chan_try_recv(r, &v, NULL);
	XB_CHECK(rc == 0 || rc == EAGAIN);
	for (int i = 0; i < 50; i++) {
		XB_CHECK(chan_unref(chan_ref(r)) == 0);
		tu_yield();
	}
	XB_CHECK(chan_unref(r) == 0);
	return NULL;
}
Test(xb_after, stress_clone, .timeout = 240)
{
	for (int i = 0; i < 1000; i++) {
		chan_t *r = gotime_after((i % 20) * XB_MS / 10); /* crossbeam: i ms */
		tu_go_t t[10];
		for (int k = 0; k < 10; k++)
			t[k] = tu_spawn(clone_worker, r);
		for (int k = 0; k < 10; k++)
			tu_join(t[k]);
		cr_assert_eq(chan_unref(r), 0);
	}
	XB_ASSERT_OK();
}

Test(xb_after, fairness, .timeout = 60)
{
	for (int dur = 0; dur <= 1; dur++) {
		int hits[2] = {0, 0};
		int64_t v;
		for (int i = 0; i < 1000; i++) {
			chan_t *a = gotime_after(dur * XB_MS), *b = gotime_after(dur * XB_MS);
			if (dur)
				flush(dur * XB_MS);
			int k = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a, &v, NULL),
					    CHAN_RECV(b, &v, NULL));
			cr_assert(k == 0 || k == 1);
			hits[k]++;
			cr_assert_eq(chan_unref(a), 0);
			cr_assert_eq(chan_unref(b), 0);
		}
		for (int k = 0; k < 2; k++)
			cr_assert_geq(hits[k], 1000 / 2 / 2, "dur %d: hits[%d] = %d", dur, k,
				      hits[k]);
	}
}

Test(xb_after, fairness_duplicates, .timeout = 60)
{
	for (int dur = 0; dur <= 1; dur++) {
		int hits[5] = {0};
		int64_t v;
		for (int i = 0; i < 1000; i++) {
			chan_t *r = gotime_after(dur * XB_MS);
			if (dur)
				flush(dur * XB_MS);
			int k = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r, &v, NULL),
					    CHAN_RECV(r, &v, NULL), CHAN_RECV(r, &v, NULL),
					    CHAN_RECV(r, &v, NULL), CHAN_RECV(r, &v, NULL));
			cr_assert(k >= 0 && k < 5);
			hits[k]++;
			cr_assert_eq(chan_unref(r), 0);
		}
		for (int k = 0; k < 5; k++)
			cr_assert_geq(hits[k], 1000 / 5 / 2, "dur %d: hits[%d] = %d", dur, k,
				      hits[k]);
	}
}
