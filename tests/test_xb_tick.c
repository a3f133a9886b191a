/*
 * tests/test_xb_tick.c - crossbeam-channel's tests/tick.rs ported to
 * gotime_tick / gotime_ticker_new (include/gochan/time.h: Go 1.23's
 * time.Tick and time.NewTicker).
 *
 * Mapping, Go's semantics where crossbeam's differ:
 *   tick(d)           gotime_tick(d) (the caller owns one reference), or a
 *                     gotime_ticker_new handle where a test must stop a
 *                     long-period ticker before the suite's leak check
 *   tick(0)           Go: time.Tick(0) is the nil channel (NULL), never
 *                     ready; crossbeam's is always ready
 *   capacity() Some(1), len() 1 with a tick waiting
 *                     Go 1.23: cap 0, len 0 (a timer channel looks
 *                     unbuffered); at most one tick waits all the same
 * Time: as in tests/test_xb_after.c, only lower bounds and orderings are
 * asserted (a tick is never early; ticks a slow receiver missed are dropped,
 * so the next one is due after the receiver came back; no tick is received
 * twice), "it has fired by now" is waited for with tu_timers_flush, and a
 * check that nothing has fired yet accepts a tick whose due time had passed.
 * The waits in `intervals` (a receiver away for 300 ms) and `recv_timeout`
 * are the subject of those tests, not synchronisation.
 *
 * Ported: fire, intervals, capacity, len_empty_full, try_recv, recv,
 * recv_timeout, recv_two, recv_race, stress_default, select, fairness,
 * fairness_duplicates (13).
 * Skipped (1): ready: no non-consuming readiness wait (Select::ready).
 * Changed: select asserts each tick is received once and no more ticks than
 * were due, not crossbeam's exact 8 within 1.1 s (a count that a stalled
 * machine changes); fairness and fairness_duplicates run their 1 ms round
 * only, the 0 ms round checks Go's nil-channel Tick(0) instead.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <stdlib.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_tick);

#define SEC ((int64_t)1000000000)

static void flush(int64_t d)
{
	cr_assert(tu_timers_flush(d, XB_PATIENCE), "the timer thread never caught up");
}

/* A try_recv that may only find a tick due at or after @not_before. */
static void assert_no_tick_before(chan_t *r, int64_t not_before)
{
	int64_t v = 0;
	if (chan_try_recv(r, &v, NULL) == 0)
		cr_assert_geq(v, not_before, "a tick due at %lld, before %lld", (long long)v,
			      (long long)not_before);
}

Test(xb_tick, fire, .timeout = 60)
{
	int64_t start = chan_now();
	chan_t *r = gotime_tick(50 * XB_MS);
	assert_no_tick_before(r, start + 50 * XB_MS);
	flush(50 * XB_MS);
	int64_t fired = 0;
	cr_assert_eq(chan_try_recv(r, &fired, NULL), 0);
	cr_assert_lt(start, fired);
	cr_assert_geq(fired - start, 50 * XB_MS);
	cr_assert_lt(fired, chan_now());
	assert_no_tick_before(r, fired + 50 * XB_MS);
	gotime_ticker_t *slow = gotime_ticker_new(10 * SEC); /* crossbeam: 200 ms */
	int64_t v;
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r, &v, NULL),
				 CHAN_RECV(gotime_ticker_chan(slow), &v, NULL)),
		     0);
	cr_assert_geq(v, fired + 50 * XB_MS);
	gotime_ticker_free(slow);
	cr_assert_eq(chan_unref(r), 0);
}

/* intervals: a receiver away for 300 ms finds one tick waiting (the first
 * it missed), and the next one is due after it came back. */
Test(xb_tick, intervals, .timeout = 60)
{
	int64_t start = chan_now();
	chan_t *r = gotime_tick(50 * XB_MS);
	int64_t t1 = 0, t2 = 0, t3 = 0;
	cr_assert_eq(chan_recv(r, &t1, NULL), 0);
	cr_assert_geq(t1, start + 50 * XB_MS);
	xb_sleep(300 * XB_MS); /* the subject: a slow receiver */
	int64_t back = chan_now();
	flush(0); /* every tick due before `back` was handled: kept or dropped */
	cr_assert_eq(chan_try_recv(r, &t2, NULL), 0);
	cr_assert_geq(t2, t1 + 50 * XB_MS);
	cr_assert_lt(t2, back);
	cr_assert_eq(chan_recv(r, &t3, NULL), 0);
	cr_assert_geq(t3, back, "a dropped tick was delivered: t3 %lld < back %lld", (long long)t3,
		      (long long)back);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_tick, capacity)
{
	for (int i = 0; i < 10; i++) {
		chan_t *r = gotime_tick(i * XB_MS);
		if (i == 0) {
			cr_assert_null(r); /* Go: Tick(0) is nil */
			continue;
		}
		cr_assert_eq(chan_cap(r), 0); /* Go 1.23; crossbeam: Some(1) */
		cr_assert_eq(chan_unref(r), 0);
	}
}

Test(xb_tick, len_empty_full, .timeout = 60)
{
	chan_t *r = gotime_tick(50 * XB_MS);
	cr_assert_eq(chan_len(r), 0);
	flush(50 * XB_MS);
	cr_assert_eq(chan_len(r), 0); /* Go 1.23: 0 with a tick waiting */
	int64_t v;
	cr_assert_eq(chan_try_recv(r, &v, NULL), 0);
	cr_assert_eq(chan_len(r), 0);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_tick, try_recv, .timeout = 60)
{
	int64_t start = chan_now(), v = 0;
	chan_t *r = gotime_tick(100 * XB_MS);
	assert_no_tick_before(r, start + 100 * XB_MS);
	flush(100 * XB_MS);
	cr_assert_eq(chan_try_recv(r, &v, NULL), 0);
	cr_assert_geq(v, start + 100 * XB_MS);
	int64_t last = v;
	assert_no_tick_before(r, last + 100 * XB_MS);
	flush(100 * XB_MS);
	cr_assert_eq(chan_try_recv(r, &v, NULL), 0);
	cr_assert_geq(v, last + 100 * XB_MS);
	assert_no_tick_before(r, v + 100 * XB_MS);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_tick, recv, .timeout = 60)
{
	int64_t start = chan_now(), fired = 0;
	chan_t *r = gotime_tick(50 * XB_MS);
	cr_assert_eq(chan_recv(r, &fired, NULL), 0);
	cr_assert_lt(start, fired);
	cr_assert_geq(fired - start, 50 * XB_MS);
	cr_assert_lt(fired, chan_now());
	assert_no_tick_before(r, fired + 50 * XB_MS);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_tick, recv_timeout, .timeout = 60)
{
	int64_t start = chan_now(), v = 0;
	chan_t *r = gotime_tick(100 * XB_MS);
	int64_t t0 = chan_now();
	int rc = chan_recv_until(r, &v, NULL, t0 + 50 * XB_MS);
	if (rc == 0) {
		cr_assert_geq(v, start + 100 * XB_MS);
	} else {
		cr_assert_eq(rc, ETIMEDOUT);
		cr_assert_geq(chan_now() - t0, 50 * XB_MS);
		cr_assert_eq(chan_recv_until(r, &v, NULL, chan_now() + XB_PATIENCE), 0);
		cr_assert_geq(v, start + 100 * XB_MS);
	}
	int64_t fired = v;
	t0 = chan_now();
	rc = chan_recv_until(r, &v, NULL, t0 + 50 * XB_MS);
	if (rc == 0) {
		cr_assert_geq(v, fired + 100 * XB_MS);
	} else {
		cr_assert_eq(rc, ETIMEDOUT);
		cr_assert_geq(chan_now() - t0, 50 * XB_MS);
		cr_assert_eq(chan_recv_until(r, &v, NULL, chan_now() + XB_PATIENCE), 0);
		cr_assert_geq(v, fired + 100 * XB_MS);
	}
	cr_assert_eq(chan_unref(r), 0);
}

struct two {
	chan_t *r1, *r2;
};
static void *recv_two_sel(void *p)
{
	struct two *t = p;
	int64_t v;
	for (int i = 0; i < 10; i++) {
		int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(t->r1, &v, NULL),
				    CHAN_RECV(t->r2, &v, NULL));
		XB_CHECK(k == 0 || k == 1);
	}
	return NULL;
}
Test(xb_tick, recv_two, .timeout = 60)
{
	struct two t = {gotime_tick(10 * XB_MS), gotime_tick(10 * XB_MS)};
	tu_go_t a = tu_spawn(recv_two_sel, &t), b = tu_spawn(recv_two_sel, &t);
	tu_join(a);
	tu_join(b);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(t.r1), 0);
	cr_assert_eq(chan_unref(t.r2), 0);
}

/* recv_race: the 50 ms ticker's first tick comes before the 100 ms one's.
 * The timer thread is held until the select is parked. */
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
Test(xb_tick, recv_race, .timeout = 60)
{
	for (int i = 0; i < 2; i++) {
		struct tu_timer_hold h;
		cr_assert(tu_timer_hold(&h, XB_PATIENCE));
		struct race r = {gotime_tick(50 * XB_MS), gotime_tick(100 * XB_MS), i == 0,
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

Test(xb_tick, stress_default)
{
	int64_t v;
	for (int i = 0; i < 10; i++) {
		chan_t *r = gotime_tick(0); /* Go: nil, never ready (crossbeam: always) */
		cr_assert_null(r);
		cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r, &v, NULL)), CHAN_DEFAULT);
	}
	for (int i = 0; i < 10; i++) {
		gotime_ticker_t *t = gotime_ticker_new(10 * SEC); /* crossbeam: 100 ms */
		cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(gotime_ticker_chan(t), &v, NULL)),
			     CHAN_DEFAULT);
		gotime_ticker_free(t);
	}
}

/* select: 4 goroutines share two tickers until their own timeouts; each
 * tick is received by one goroutine only, and never more ticks than were
 * due by the time the last goroutine left. */
#define SEL_THREADS 4
#define SEL_MAX 64
struct sel {
	chan_t *r1, *r2;
	int64_t start;
	atomic_int hits;
	atomic_llong got[2][SEL_MAX];
	atomic_int ngot[2];
};
static void *sel_worker(void *p)
{
	struct sel *s = p;
	chan_t *timeout = gotime_after(110 * XB_MS);
	for (;;) {
		int64_t v = 0, w;
		int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(s->r1, &v, NULL),
				    CHAN_RECV(s->r2, &v, NULL), CHAN_RECV(timeout, &w, NULL));
		XB_CHECK(k >= 0 && k <= 2);
		if (k < 0 || k == 2)
			break;
		atomic_fetch_add_explicit(&s->hits, 1, memory_order_relaxed);
		int n = atomic_fetch_add_explicit(&s->ngot[k], 1, memory_order_relaxed);
		XB_CHECK(n < SEL_MAX);
		if (n < SEL_MAX)
			atomic_store_explicit(&s->got[k][n], v, memory_order_relaxed);
	}
	XB_CHECK(chan_unref(timeout) == 0);
	return NULL;
}
static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}
Test(xb_tick, select, .timeout = 60)
{
	struct sel *s = calloc(1, sizeof *s);
	s->start = chan_now();
	s->r1 = gotime_tick(20 * XB_MS); /* crossbeam: 200 and 300 ms, 1.1 s */
	s->r2 = gotime_tick(30 * XB_MS);
	tu_go_t t[SEL_THREADS];
	for (int i = 0; i < SEL_THREADS; i++)
		t[i] = tu_spawn(sel_worker, s);
	for (int i = 0; i < SEL_THREADS; i++)
		tu_join(t[i]);
	int64_t end = chan_now();
	XB_ASSERT_OK();
	const int64_t period[2] = {20 * XB_MS, 30 * XB_MS};
	for (int k = 0; k < 2; k++) {
		int n = atomic_load(&s->ngot[k]);
		long long vals[SEL_MAX];
		for (int i = 0; i < n; i++)
			vals[i] = atomic_load(&s->got[k][i]);
		qsort(vals, (size_t)n, sizeof vals[0], cmp_ll);
		for (int i = 0; i < n; i++) {
			cr_assert_geq(vals[i], s->start + period[k]);
			cr_assert_lt(vals[i], end);
			if (i)
				cr_assert_geq(vals[i] - vals[i - 1], period[k],
					      "ticker %d: ticks %lld and %lld", k, vals[i - 1],
					      vals[i]);
		}
		cr_assert_leq(n, (end - s->start) / period[k]);
	}
	cr_assert_eq(chan_unref(s->r1), 0);
	cr_assert_eq(chan_unref(s->r2), 0);
	free(s);
}

Test(xb_tick, fairness, .timeout = 60)
{
	chan_t *nil = gotime_tick(0); /* the 0 ms round: Go's nil channel */
	cr_assert_null(nil);
	int64_t v;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(nil, &v, NULL), CHAN_RECV(nil, &v, NULL)),
		     CHAN_DEFAULT);
	int hits[2] = {0, 0};
	for (int i = 0; i < 30; i++) {
		chan_t *r1 = gotime_tick(XB_MS), *r2 = gotime_tick(XB_MS);
		for (int j = 0; j < 30; j++) {
			int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(r1, &v, NULL),
					    CHAN_RECV(r2, &v, NULL));
			cr_assert(k == 0 || k == 1);
			hits[k]++;
		}
		cr_assert_eq(chan_unref(r1), 0);
		cr_assert_eq(chan_unref(r2), 0);
	}
	for (int k = 0; k < 2; k++)
		cr_assert_geq(hits[k], 30 / 2 / 2, "hits[%d] = %d", k, hits[k]);
}

Test(xb_tick, fairness_duplicates, .timeout = 60)
{
	int hits[5] = {0};
	int64_t v;
	for (int i = 0; i < 30; i++) {
		chan_t *r = gotime_tick(XB_MS);
		for (int j = 0; j < 30; j++) {
			int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(r, &v, NULL),
					    CHAN_RECV(r, &v, NULL), CHAN_RECV(r, &v, NULL),
					    CHAN_RECV(r, &v, NULL), CHAN_RECV(r, &v, NULL));
			cr_assert(k >= 0 && k < 5);
			hits[k]++;
		}
		cr_assert_eq(chan_unref(r), 0);
	}
	for (int k = 0; k < 5; k++)
		cr_assert_geq(hits[k], 30 / 5 / 2, "hits[%d] = %d", k, hits[k]);
}
