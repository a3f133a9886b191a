/*
 * tests/test_group_wg.c - Go's sync.WaitGroup tests (src/sync/
 * waitgroup_test.go: TestWaitGroup, TestWaitGroupMisuse, TestWaitGroupRace,
 * TestWaitGroupGo) ported to gowg_ (include/gochan/waitgroup.h), plus the
 * C-only contract: negative and overflowing changes leave the counter alone,
 * the deadline form, EDEADLK from a task, EBUSY from free.
 *
 * Go's misuse panics become error codes; Go's "Add called concurrently with
 * Wait" detectors (TestWaitGroupMisuse2/3) have no counterpart: gowg does
 * not detect that misuse (gochan/waitgroup.h says so).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/waitgroup.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "group/group_internal.h"
#include "service/threads.h"
#include "tests/leakcheck.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(group_wg);

#define SECOND ((int64_t)1000000000)

/* ---- TestWaitGroup --------------------------------------------------------- */

struct twg {
	gowg_t *wg1, *wg2;
	chan_t *exited; /* bool, capacity n */
	atomic_int bad; /* failed calls in the workers (no cr_assert off the test thread) */
};

static void *twg_worker(void *p)
{
	struct twg *t = p;
	bool yes = true;
	if (gowg_done(t->wg1) || gowg_wait(t->wg2) || chan_send(t->exited, &yes))
		atomic_fetch_add(&t->bad, 1);
	return NULL;
}

static void test_wait_group(gowg_t *wg1, gowg_t *wg2)
{
	enum {
		N = 16
	};
	struct twg t = {wg1, wg2, chan_new(sizeof(bool), N), 0};
	tu_go_t th[N];
	cr_assert_not_null(t.exited);
	cr_assert_eq(gowg_add(wg1, N), 0);
	cr_assert_eq(gowg_add(wg2, N), 0);
	for (int i = 0; i < N; i++)
		th[i] = tu_spawn(twg_worker, &t);
	cr_assert_eq(gowg_wait(wg1), 0);
	for (int i = 0; i < N; i++) {
		bool v;
		/* Go: select { case <-exited: t.Fatal("released too soon") default: } */
		cr_assert_eq(chan_try_recv(t.exited, &v, NULL), EAGAIN,
			     "WaitGroup released group too soon");
		cr_assert_eq(gowg_done(wg2), 0);
	}
	for (int i = 0; i < N; i++) {
		bool v = false;
		cr_assert_eq(chan_recv(t.exited, &v, NULL), 0);
		cr_assert(v);
	}
	for (int i = 0; i < N; i++)
		tu_join(th[i]);
	cr_assert_eq(atomic_load(&t.bad), 0);
	cr_assert_eq(chan_unref(t.exited), 0);
}

Test(group_wg, wait_group, .timeout = 30)
{
	gowg_t *wg1 = gowg_new(), *wg2 = gowg_new();
	cr_assert(wg1 && wg2);
	for (int i = 0; i < 8; i++)
		test_wait_group(wg1, wg2); /* reuse, as Go does */
	cr_assert_eq(gowg_free(wg1), 0);
	cr_assert_eq(gowg_free(wg2), 0);
}

/* ---- TestWaitGroupMisuse, and the C contract of the counter ------------------ */

Test(group_wg, misuse_negative_counter, .timeout = 5)
{
	gowg_t *wg = gowg_new();
	cr_assert_not_null(wg);
	cr_assert_eq(gowg_add(wg, 1), 0);
	cr_assert_eq(gowg_done(wg), 0);
	/* Go: panic("sync: negative WaitGroup counter") */
	cr_assert_eq(gowg_done(wg), EINVAL);
	cr_assert_eq(gowg_add(wg, -5), EINVAL);
	/* ...and the counter was left at 0: a wait returns at once. */
	cr_assert_eq(gowg_wait_until(wg, CHAN_NOWAIT), 0);
	cr_assert_eq(gowg_add(wg, 3), 0);
	cr_assert_eq(gowg_add(wg, -4), EINVAL, "3 - 4 < 0");
	cr_assert_eq(gowg_wait_until(wg, CHAN_NOWAIT), ETIMEDOUT, "still 3");
	cr_assert_eq(gowg_add(wg, -3), 0);
	cr_assert_eq(gowg_wait_until(wg, CHAN_NOWAIT), 0);
	cr_assert_eq(gowg_add(wg, 0), 0);
	cr_assert_eq(gowg_free(wg), 0);
}

Test(group_wg, overflow_and_null, .timeout = 5)
{
	gowg_t *wg = gowg_new();
	cr_assert_not_null(wg);
	cr_assert_eq(gowg_add(wg, GOWG_MAX), 0);
	cr_assert_eq(gowg_add(wg, 1), EOVERFLOW);
	cr_assert_eq(gowg_add(wg, LONG_MAX), EOVERFLOW);
	cr_assert_eq(gowg_add(wg, LONG_MIN), EINVAL);
	cr_assert_eq(gowg_add(wg, -GOWG_MAX), 0, "unchanged by the failures");
	cr_assert_eq(gowg_wait_until(wg, CHAN_NOWAIT), 0);
	cr_assert_eq(gowg_add(NULL, 1), EINVAL);
	cr_assert_eq(gowg_done(NULL), EINVAL);
	cr_assert_eq(gowg_wait(NULL), EINVAL);
	cr_assert_eq(gowg_wait_until(NULL, CHAN_FOREVER), EINVAL);
	cr_assert_eq(gowg_go(NULL, NULL, NULL), EINVAL);
	cr_assert_eq(gowg_go(wg, NULL, NULL), EINVAL);
	cr_assert_eq(gowg_free(NULL), EINVAL);
	cr_assert_eq(gowg_free(wg), 0);
}

/* ---- TestWaitGroupRace -------------------------------------------------------- */

struct race {
	gowg_t *wg;
	atomic_int n;
	atomic_int bad;
};

static void race_task(void *p)
{
	struct race *r = p;
	atomic_fetch_add_explicit(&r->n, 1, memory_order_relaxed);
}

static void *race_manual(void *p)
{
	struct race *r = p;
	race_task(r);
	if (gowg_done(r->wg))
		atomic_fetch_add(&r->bad, 1);
	return NULL;
}

Test(group_wg, race, .timeout = 60)
{
	/* Go runs 1000 rounds of two goroutines; one with manual Add/Done on
	 * plain threads, one through gowg_go. */
	for (int i = 0; i < 1000; i++) {
		struct race r = {.wg = gowg_new()};
		cr_assert_not_null(r.wg);
		atomic_init(&r.n, 0);
		atomic_init(&r.bad, 0);
		tu_go_t a = {0}, b = {0};
		if (i % 2) {
			cr_assert_eq(gowg_add(r.wg, 2), 0);
			a = tu_spawn(race_manual, &r);
			b = tu_spawn(race_manual, &r);
		} else {
			cr_assert_eq(gowg_go(r.wg, race_task, &r), 0);
			cr_assert_eq(gowg_go(r.wg, race_task, &r), 0);
		}
		cr_assert_eq(gowg_wait(r.wg), 0);
		/* Relaxed suffices: the wait orders the tasks' adds before us. */
		cr_assert_eq(atomic_load_explicit(&r.n, memory_order_relaxed), 2,
			     "spurious wakeup in Wait");
		cr_assert_eq(gowg_free(r.wg), 0, "nothing touches wg after Wait");
		if (i % 2) {
			tu_join(a);
			tu_join(b);
		}
		cr_assert_eq(atomic_load(&r.bad), 0);
	}
	cr_assert_eq(gosvc__threads_wait(chan_now() + 10 * SECOND), 0);
}

/* ---- TestWaitGroupGo (Go 1.25) ----------------------------------------------- */

static void incr(void *p)
{
	(*(int *)p)++; /* plain int: the wait's ordering makes it visible */
}

Test(group_wg, go, .timeout = 10)
{
	gowg_t *wg = gowg_new();
	int i = 0;
	cr_assert_not_null(wg);
	cr_assert_eq(gowg_go(wg, incr, &i), 0);
	cr_assert_eq(gowg_wait(wg), 0);
	cr_assert_eq(i, 1);
	cr_assert_eq(gowg_free(wg), 0);
	/* The task's thread is accounted until it is gone. */
	cr_assert_eq(gosvc__threads_wait(chan_now() + 10 * SECOND), 0);
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_GROUP), 0);
}

/* Many tasks, one plain int each: the memory-order guarantee of Wait. */
Test(group_wg, go_many_happens_before_wait, .timeout = 60)
{
	enum {
		N = 500
	};
	static int cells[N];
	gowg_t *wg = gowg_new();
	cr_assert_not_null(wg);
	for (int i = 0; i < N; i++)
		cr_assert_eq(gowg_go(wg, incr, &cells[i]), 0);
	cr_assert_eq(gowg_wait(wg), 0);
	for (int i = 0; i < N; i++)
		cr_assert_eq(cells[i], 1, "task %d", i);
	cr_assert_eq(gowg_free(wg), 0);
}

/* ---- the deadline form, EDEADLK, EBUSY ----------------------------------------- */

struct gate {
	gowg_t *wg;
	chan_t *gate; /* closed to let the tasks finish */
	chan_t *started;
	atomic_int rc;
};

static void gated(void *p)
{
	struct gate *g = p;
	chan_send(g->started, NULL);
	chan_recv(g->gate, NULL, NULL);
}

Test(group_wg, wait_until_times_out_and_changes_nothing, .timeout = 20)
{
	struct gate g = {gowg_new(), chan_new(0, 0), chan_new(0, 1), 0};
	cr_assert(g.wg && g.gate && g.started);
	cr_assert_eq(gowg_go(g.wg, gated, &g), 0);
	cr_assert_eq(chan_recv(g.started, NULL, NULL), 0);
	int64_t t0 = chan_now();
	cr_assert_eq(gowg_wait_until(g.wg, t0 + 20 * 1000000), ETIMEDOUT);
	cr_assert_geq(chan_now() - t0, 20 * 1000000, "did not wait until the deadline");
	cr_assert_eq(gowg_wait_until(g.wg, CHAN_NOWAIT), ETIMEDOUT);
	cr_assert_eq(gowg_wait_until(g.wg, -12345), ETIMEDOUT, "a negative deadline has passed");
	cr_assert_eq(gowg_free(g.wg), EBUSY, "a task still runs");
	cr_assert_eq(chan_close(g.gate), 0);
	cr_assert_eq(gowg_wait_until(g.wg, chan_now() + 10 * SECOND), 0);
	cr_assert_eq(gowg_free(g.wg), 0);
	chan_unref(g.gate);
	chan_unref(g.started);
}

static void self_wait(void *p)
{
	struct gate *g = p;
	atomic_store(&g->rc, gowg_wait(g->wg));
}

Test(group_wg, wait_from_own_task_is_edeadlk, .timeout = 10)
{
	struct gate g = {.wg = gowg_new()};
	cr_assert_not_null(g.wg);
	atomic_init(&g.rc, -1);
	cr_assert_eq(gowg_go(g.wg, self_wait, &g), 0);
	cr_assert_eq(gowg_wait(g.wg), 0);
	cr_assert_eq(atomic_load(&g.rc), EDEADLK);
	cr_assert_eq(gowg_free(g.wg), 0);
}

struct waiter {
	gowg_t *wg;
	tu_blocker_t blk;
	int rc;
};

static void *blocked_waiter(void *p)
{
	struct waiter *w = p;
	tu_about_to_block(&w->blk);
	w->rc = gowg_wait(w->wg);
	return NULL;
}

Test(group_wg, free_while_waiting_is_ebusy, .timeout = 20)
{
	struct waiter w = {.wg = gowg_new(), .blk = TU_BLOCKER_INIT, .rc = -1};
	cr_assert_not_null(w.wg);
	cr_assert_eq(gowg_add(w.wg, 1), 0);
	tu_go_t th = tu_spawn(blocked_waiter, &w);
	cr_assert(tu_wait_blocked(&w.blk, TU_BLOCK_TIMEOUT_NS));
	cr_assert_eq(gowg_free(w.wg), EBUSY, "counter 1 and a waiter");
	cr_assert_eq(gowg_done(w.wg), 0);
	tu_join(th);
	cr_assert_eq(w.rc, 0);
	cr_assert_eq(gowg_free(w.wg), 0);
}

/* Several waiters on one zero transition all wake (FUTEX_WAKE of all). */
Test(group_wg, many_waiters_one_done, .timeout = 30)
{
	enum {
		W = 8
	};
	for (int round = 0; round < 50; round++) {
		gowg_t *wg = gowg_new();
		struct waiter w[W];
		tu_go_t th[W];
		cr_assert_not_null(wg);
		cr_assert_eq(gowg_add(wg, 1), 0);
		for (int i = 0; i < W; i++) {
			w[i] = (struct waiter){.wg = wg, .blk = TU_BLOCKER_INIT, .rc = -1};
			th[i] = tu_spawn(blocked_waiter, &w[i]);
		}
		if (round == 0)
			for (int i = 0; i < W; i++)
				cr_assert(tu_wait_blocked(&w[i].blk, TU_BLOCK_TIMEOUT_NS));
		cr_assert_eq(gowg_done(wg), 0);
		for (int i = 0; i < W; i++) {
			tu_join(th[i]);
			cr_assert_eq(w[i].rc, 0);
		}
		cr_assert_eq(gowg_free(wg), 0);
	}
}

/* A call that overlaps a free sees it and backs out with EINVAL (the other
 * half of the users/closing pair: the free side is free_while_waiting_is_ebusy).
 * The window is a few instructions in real use, so the test opens it with
 * the internal step of gowg_free that decides (gowg__close), and finishes
 * the free itself. */
static void never_runs(void *p)
{
	(void)p;
	cr_assert_fail("a task started on a WaitGroup being freed");
}

Test(group_wg, calls_during_free_are_einval, .timeout = 10)
{
	gowg_t *wg = gowg_new();
	cr_assert_not_null(wg);
	cr_assert_eq(gowg__close(wg), 0, "idle: free may proceed");
	cr_assert_eq(gowg_wait(wg), EINVAL);
	cr_assert_eq(gowg_wait_until(wg, CHAN_NOWAIT), EINVAL);
	cr_assert_eq(gowg_go(wg, never_runs, NULL), EINVAL);
	cr_assert_eq(gowg_free(wg), EINVAL, "a second free while one decides");
	cr_assert_eq(gowg__count(wg), 0, "nothing was counted");
	free(wg); /* what gowg_free does after gowg__close */
}
