/*
 * tests/test_group_spawnfail.c - a thread that cannot be started is an
 * error returned to the caller, never a lost task, and leaves the group
 * consistent.  The failure is injected through group/group_internal.h's
 * test hook (the k-th thread start fails as if pthread_create had returned
 * EAGAIN), for every k in a small range, on every start path: gowg_go,
 * gogroup_go / _go_ctx / _go_until / _try_go, with and without a limit.
 *
 * After each run: exactly the k-th start failed with the injected error,
 * its function never ran, every other function ran exactly once, Wait
 * returns 0 (the refused start is not counted), every slot of a limited
 * group is free again (exactly `limit` more tasks start without blocking),
 * the limit can be changed, free succeeds, and no library thread is left.
 * (A slot leaked by a blocking start would make the next blocking start
 * hang: that shows as the test's timeout, the deadline and try forms fail
 * at once.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/group.h>
#include <gochan/waitgroup.h>
#include <stdatomic.h>
#include <stdint.h>

#include "service/threads.h"
#include "group/group_internal.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(group_spawnfail);

#define SECOND ((int64_t)1000000000)

enum {
	STARTS = 8, /* starts per run */
	KMAX = 6    /* fail the k-th start for k = 1 .. KMAX */
};

static atomic_int ran[STARTS];

static int count_run(void *p)
{
	atomic_fetch_add(&ran[(intptr_t)p], 1);
	return 0;
}

static void count_run_void(void *p)
{
	count_run(p);
}

static int wait_gate(void *p)
{
	return chan_recv((chan_t *)p, NULL, NULL);
}

/* Every one of @limit slots is free again: exactly @limit gated tasks start
 * without blocking, and one more does not. */
static void check_slots(gogroup_t *g, int limit)
{
	chan_t *gate = chan_new(0, 0);
	cr_assert_not_null(gate);
	for (int j = 0; j < limit; j++)
		cr_assert_eq(gogroup_try_go(g, wait_gate, gate), 0, "slot %d of %d leaked", j + 1,
			     limit);
	cr_assert_eq(gogroup_try_go(g, wait_gate, gate), EAGAIN, "more slots than the limit");
	cr_assert_eq(chan_close(gate), 0);
	cr_assert_eq(gogroup_wait_until(g, chan_now() + 10 * SECOND, NULL), 0);
	chan_unref(gate);
}

static void reset(void)
{
	for (int i = 0; i < STARTS; i++)
		atomic_store(&ran[i], 0);
}

/* Check that start @k (1-based) and only it failed and did not run. */
static void check_runs(const int *rc, int k, int err)
{
	for (int i = 0; i < STARTS; i++) {
		if (i + 1 == k) {
			cr_assert_eq(rc[i], err, "start %d: got %d, want the injected %d", i + 1,
				     rc[i], err);
			cr_assert_eq(atomic_load(&ran[i]), 0, "a refused task ran");
		} else {
			cr_assert_eq(rc[i], 0, "start %d (k=%d): %d", i + 1, k, rc[i]);
			cr_assert_eq(atomic_load(&ran[i]), 1, "task %d ran %d times", i + 1,
				     atomic_load(&ran[i]));
		}
	}
	cr_assert_eq(gosvc__threads_wait(chan_now() + 10 * SECOND), 0, "threads left");
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_GROUP), 0);
}

Test(group_spawnfail, waitgroup_go, .timeout = 30)
{
	for (int k = 1; k <= KMAX; k++) {
		int rc[STARTS];
		gowg_t *wg = gowg_new();
		cr_assert_not_null(wg);
		reset();
		group__inject_spawn_failure(k, EAGAIN);
		for (int i = 0; i < STARTS; i++)
			rc[i] = gowg_go(wg, count_run_void, (void *)(intptr_t)i);
		cr_assert_eq(gowg_wait_until(wg, chan_now() + 10 * SECOND), 0);
		check_runs(rc, k, EAGAIN);
		/* The counter is exactly 0: one Done more is negative. */
		cr_assert_eq(gowg_done(wg), EINVAL);
		cr_assert_eq(gowg_free(wg), 0);
	}
}

/* One start through the path @mode picks (a limit of @limit, or none). */
static int start(gogroup_t *g, int mode, ctx_t *ctx, int i)
{
	void *arg = (void *)(intptr_t)i;
	switch (mode) {
	case 0:
		return gogroup_go(g, count_run, arg);
	case 1:
		return gogroup_go_ctx(g, ctx, count_run, arg);
	case 2:
		return gogroup_go_until(g, chan_now() + 10 * SECOND, count_run, arg);
	default:
		return gogroup_try_go(g, count_run, arg);
	}
}

static void errgroup_run(int limit, int mode, int err)
{
	for (int k = 1; k <= KMAX; k++) {
		int rc[STARTS];
		ctx_t *ctx = NULL;
		gogroup_t *g = gogroup_with_context(ctx_background(), &ctx);
		cr_assert(g && ctx);
		cr_assert_eq(gogroup_set_limit(g, limit), 0);
		reset();
		group__inject_spawn_failure(k, err);
		for (int i = 0; i < STARTS; i++) {
			rc[i] = start(g, mode, ctx, i);
			/* TryGo at a limit of 1 needs the slot back. */
			if (mode == 3 && limit >= 0)
				cr_assert_eq(gogroup_wait_until(g, chan_now() + 10 * SECOND, NULL),
					     0);
		}
		int first = -1;
		cr_assert_eq(gogroup_wait_until(g, chan_now() + 10 * SECOND, &first), 0);
		cr_assert_eq(first, 0, "a refused start is not a task error");
		check_runs(rc, k, err);
		if (limit > 0)
			check_slots(g, limit);
		/* Consistent: the limit can change (nothing active), and a new
		 * task runs. */
		cr_assert_eq(gogroup_set_limit(g, -1), 0);
		cr_assert_eq(gogroup_go(g, count_run, (void *)(intptr_t)(k - 1)), 0);
		cr_assert_eq(gogroup_wait(g), 0);
		if (k <= STARTS)
			cr_assert_eq(atomic_load(&ran[k - 1]), 1, "the retried task ran once");
		cr_assert_eq(gogroup_free(g), 0);
		ctx_release(ctx);
	}
}

Test(group_spawnfail, errgroup_no_limit, .timeout = 30)
{
	for (int mode = 0; mode < 4; mode++)
		errgroup_run(-1, mode, EAGAIN);
}

Test(group_spawnfail, errgroup_limit_1, .timeout = 30)
{
	for (int mode = 0; mode < 4; mode++)
		errgroup_run(1, mode, EAGAIN);
}

Test(group_spawnfail, errgroup_limit_3, .timeout = 30)
{
	for (int mode = 0; mode < 3; mode++)
		errgroup_run(3, mode, EAGAIN);
}

Test(group_spawnfail, other_errors_pass_through, .timeout = 30)
{
	errgroup_run(2, 0, ENOMEM);
}

Test(group_spawnfail, hook_disarmed, .timeout = 20)
{
	group__inject_spawn_failure(3, EAGAIN);
	group__inject_spawn_failure(0, EAGAIN);
	gogroup_t *g = gogroup_new();
	int rc[STARTS];
	cr_assert_not_null(g);
	reset();
	for (int i = 0; i < STARTS; i++)
		rc[i] = gogroup_go(g, count_run, (void *)(intptr_t)i);
	cr_assert_eq(gogroup_wait(g), 0);
	check_runs(rc, 0, 0);
	cr_assert_eq(gogroup_free(g), 0);
}
