/*
 * tests/test_group_errgroup.c - golang.org/x/sync/errgroup's tests
 * (errgroup_test.go: TestZeroGroup, TestWithContext, TestCancelCause,
 * TestGoLimit, TestTryGo) ported to gogroup_ (include/gochan/group.h), the
 * first-error-cancels pattern, 10,000 tasks through a group of limit 8, and
 * the C contract (context forms of a start, EBUSY, EDEADLK, EINVAL).
 *
 * Go's error values become int codes: errDoom is DOOM, nil is 0.  Go's
 * time.Sleep inside TestGoLimit's tasks (to make overlap likely) is
 * replaced by a gate that holds the first tasks until the limit is reached,
 * so "the limit was reached and never exceeded" is checked, not hoped for.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/group.h>
#include <gochan/select.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "service/threads.h"
#include "tests/leakcheck.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(group_errgroup);

#define SECOND ((int64_t)1000000000)
#define MS ((int64_t)1000000)

enum {
	DOOM = 1001,
	DOOM2 = 1002
};

static int ret_code(void *p)
{
	return (int)(intptr_t)p;
}

#define CODE(x) ((void *)(intptr_t)(x))

/* A task that returns once the channel @p is closed. */
static int wait_gate(void *p)
{
	return chan_recv((chan_t *)p, NULL, NULL);
}

/* The test cases of TestZeroGroup / TestWithContext: errs, and want. */
struct errcase {
	int n;
	int errs[3];
	int want;
};

static const struct errcase cases[] = {
	{0, {0}, 0},
	{1, {0}, 0},
	{1, {DOOM}, DOOM},
	{2, {DOOM, 0}, DOOM},
	{3, {DOOM, 0, DOOM2}, DOOM},
};
#define NCASES (sizeof cases / sizeof cases[0])
/* TestWithContext and TestCancelCause use the cases with at most one error
 * (with two concurrent failing tasks either may be first); TestZeroGroup
 * also the last, since it waits after every Go. */
#define NCASES_ONE_ERROR (NCASES - 1)

Test(group_errgroup, zero_group, .timeout = 20)
{
	for (size_t c = 0; c < NCASES; c++) {
		gogroup_t *g = gogroup_new();
		cr_assert_not_null(g);
		int first = 0;
		/* Go calls Wait after every Go: Wait is repeatable and the
		 * first error sticks. */
		for (int i = 0; i < cases[c].n; i++) {
			int err = cases[c].errs[i];
			cr_assert_eq(gogroup_go(g, ret_code, CODE(err)), 0);
			if (first == 0 && err != 0)
				first = err;
			cr_assert_eq(gogroup_wait(g), first, "case %zu after Go #%d", c, i);
		}
		cr_assert_eq(gogroup_wait(g), cases[c].want);
		cr_assert_eq(gogroup_free(g), 0);
	}
}

Test(group_errgroup, with_context, .timeout = 20)
{
	for (size_t c = 0; c < NCASES_ONE_ERROR; c++) {
		ctx_t *ctx = NULL;
		gogroup_t *g = gogroup_with_context(ctx_background(), &ctx);
		cr_assert(g && ctx);
		for (int i = 0; i < cases[c].n; i++)
			cr_assert_eq(gogroup_go(g, ret_code, CODE(cases[c].errs[i])), 0);
		cr_assert_eq(gogroup_wait(g), cases[c].want, "case %zu", c);
		/* Go: select { case <-ctx.Done(): default: t.Error("not canceled") } */
		chan_t *done = ctx_done(ctx);
		cr_assert_not_null(done);
		cr_assert_eq(chan_try_recv(done, NULL, NULL), 0, "ctx not canceled after Wait");
		cr_assert_eq(ctx_err(ctx), CTX_CANCELED);
		cr_assert_eq(gogroup_free(g), 0);
		cr_assert_eq(ctx_err(ctx), CTX_CANCELED,
			     "the caller's reference outlives the group");
		ctx_release(ctx);
	}
}

Test(group_errgroup, cancel_cause, .timeout = 20)
{
	for (size_t c = 0; c < NCASES_ONE_ERROR; c++) {
		ctx_t *ctx = NULL;
		gogroup_t *g = gogroup_with_context(ctx_background(), &ctx);
		cr_assert(g && ctx);
		for (int i = 0; i < cases[c].n; i++)
			cr_assert_eq(gogroup_try_go(g, ret_code, CODE(cases[c].errs[i])), 0);
		cr_assert_eq(gogroup_wait(g), cases[c].want);
		int want = cases[c].want ? cases[c].want : CTX_CANCELED;
		cr_assert_eq(ctx_cause(ctx, NULL), want, "case %zu", c);
		cr_assert_eq(gogroup_free(g), 0);
		ctx_release(ctx);
	}
}

/* ---- first error cancels the others ------------------------------------------- */

struct watcher {
	ctx_t *ctx;
	chan_t *ready; /* each watcher sends once it watches */
};

static int watch(void *p)
{
	struct watcher *w = p;
	chan_send(w->ready, NULL);
	/* Blocks until the group's context is cancelled. */
	int rc = chan_recv(ctx_done(w->ctx), NULL, NULL);
	return rc ? rc : ctx_err(w->ctx);
}

static int fail_doom(void *p)
{
	(void)p;
	return DOOM;
}

Test(group_errgroup, first_error_cancels, .timeout = 30)
{
	enum {
		W = 6
	};
	for (int round = 0; round < 20; round++) {
		struct watcher w = {.ready = chan_new(0, W)};
		ctx_t *parent = ctx_with_cancel(ctx_background());
		gogroup_t *g = gogroup_with_context(parent, &w.ctx);
		cr_assert(g && w.ctx && w.ready && parent);
		cr_assert_neq(w.ctx, parent, "a child of parent");
		for (int i = 0; i < W; i++)
			cr_assert_eq(gogroup_go(g, watch, &w), 0);
		for (int i = 0; i < W; i++)
			cr_assert_eq(chan_recv(w.ready, NULL, NULL), 0);
		cr_assert_eq(ctx_err(w.ctx), 0, "nothing failed yet");
		cr_assert_eq(gogroup_go(g, fail_doom, NULL), 0);
		/* The watchers return CTX_CANCELED, after DOOM: DOOM is first. */
		cr_assert_eq(gogroup_wait(g), DOOM);
		cr_assert_eq(ctx_err(w.ctx), CTX_CANCELED);
		cr_assert_eq(ctx_cause(w.ctx, NULL), DOOM);
		cr_assert_eq(ctx_err(parent), 0, "the parent is not cancelled");
		cr_assert_eq(gogroup_free(g), 0);
		ctx_release(w.ctx);
		ctx_cancel_release(parent);
		chan_unref(w.ready);
	}
}

Test(group_errgroup, parent_cancel_reaches_tasks, .timeout = 20)
{
	struct watcher w = {.ready = chan_new(0, 2)};
	ctx_t *parent = ctx_with_cancel(ctx_background());
	gogroup_t *g = gogroup_with_context(parent, &w.ctx);
	cr_assert(g && w.ctx && w.ready && parent);
	cr_assert_eq(gogroup_go(g, watch, &w), 0);
	cr_assert_eq(gogroup_go(g, watch, &w), 0);
	cr_assert_eq(chan_recv(w.ready, NULL, NULL), 0);
	cr_assert_eq(chan_recv(w.ready, NULL, NULL), 0);
	cr_assert_eq(ctx_cancel(parent), 0);
	cr_assert_eq(gogroup_wait(g), CTX_CANCELED, "the tasks' own error");
	cr_assert_eq(gogroup_free(g), 0);
	ctx_release(w.ctx);
	ctx_cancel_release(parent);
	chan_unref(w.ready);
}

/* ---- TestGoLimit, and 10,000 tasks through a limit of 8 ----------------------- */

struct limited {
	int limit;
	atomic_int active, max_active, ran_total;
	atomic_int *ran;  /* per task: times it ran */
	chan_t *started;  /* the first @limit tasks report here */
	chan_t *gate;     /* ...and wait for it to close */
	atomic_int index; /* next task index (handed out by the starter) */
};

struct ltask {
	struct limited *l;
	int i;
};

static int limited_task(void *p)
{
	struct ltask *t = p;
	struct limited *l = t->l;
	int n = atomic_fetch_add(&l->active, 1) + 1;
	int m = atomic_load(&l->max_active);
	while (n > m && !atomic_compare_exchange_weak(&l->max_active, &m, n))
		;
	atomic_fetch_add(&l->ran[t->i], 1);
	atomic_fetch_add(&l->ran_total, 1);
	int err = n > l->limit ? EOVERFLOW : 0;
	if (t->i < l->limit) {
		chan_send(l->started, NULL);
		chan_recv(l->gate, NULL, NULL);
	}
	atomic_fetch_sub(&l->active, 1);
	return err;
}

static void run_limited(int limit, int ntasks)
{
	struct limited l = {.limit = limit};
	struct ltask *tasks = calloc((size_t)ntasks, sizeof *tasks);
	l.ran = calloc((size_t)ntasks, sizeof *l.ran);
	l.started = chan_new(0, (size_t)limit);
	l.gate = chan_new(0, 0);
	cr_assert(tasks && l.ran && l.started && l.gate);
	atomic_init(&l.active, 0);
	atomic_init(&l.max_active, 0);
	atomic_init(&l.ran_total, 0);
	ctx_t *ctx = NULL;
	gogroup_t *g = gogroup_with_context(ctx_background(), &ctx);
	cr_assert(g && ctx);
	cr_assert_eq(gogroup_set_limit(g, limit), 0);
	for (int i = 0; i < ntasks; i++)
		tasks[i] = (struct ltask){&l, i};
	/* The first @limit tasks hold their slots: the group is at its limit. */
	for (int i = 0; i < limit; i++)
		cr_assert_eq(gogroup_go(g, limited_task, &tasks[i]), 0);
	for (int i = 0; i < limit; i++)
		cr_assert_eq(chan_recv(l.started, NULL, NULL), 0);
	cr_assert_eq(atomic_load(&l.active), limit, "the limit is reached");
	cr_assert_eq(gogroup_try_go(g, limited_task, &tasks[limit]), EAGAIN);
	cr_assert_eq(gogroup_go_until(g, chan_now() + 5 * MS, limited_task, &tasks[limit]),
		     ETIMEDOUT);
	ctx_t *dl = ctx_with_timeout(ctx_background(), 5 * MS);
	cr_assert_eq(gogroup_go_ctx(g, dl, limited_task, &tasks[limit]), CTX_DEADLINE_EXCEEDED);
	ctx_cancel_release(dl);
	cr_assert_eq(gogroup_set_limit(g, limit + 1), EBUSY);
	cr_assert_eq(gogroup_free(g), EBUSY);
	cr_assert_eq(atomic_load(&l.ran_total), limit, "no refused start ran");
	cr_assert_eq(chan_close(l.gate), 0);
	for (int i = limit; i < ntasks; i++) {
		int rc = i % 2 ? gogroup_go(g, limited_task, &tasks[i])
			       : gogroup_go_ctx(g, ctx, limited_task, &tasks[i]);
		cr_assert_eq(rc, 0, "start %d: %d", i, rc);
	}
	cr_assert_eq(gogroup_wait(g), 0, "a task saw more than %d active", limit);
	cr_assert_eq(atomic_load(&l.max_active), limit);
	cr_assert_eq(atomic_load(&l.ran_total), ntasks);
	for (int i = 0; i < ntasks; i++)
		cr_assert_eq(atomic_load(&l.ran[i]), 1, "task %d ran %d times", i,
			     atomic_load(&l.ran[i]));
	cr_assert_eq(gogroup_free(g), 0);
	ctx_release(ctx);
	chan_unref(l.started);
	chan_unref(l.gate);
	free(tasks);
	free(l.ran);
	cr_assert_eq(gosvc__threads_wait(chan_now() + 30 * SECOND), 0, "threads left");
}

Test(group_errgroup, go_limit, .timeout = 60)
{
	run_limited(10, 1 << 10); /* Go's TestGoLimit: limit 10, 1<<10 + 1 tasks */
}

Test(group_errgroup, ten_thousand_tasks_limit_8, .timeout = 240)
{
	run_limited(8, 10000);
}

/* ---- TestTryGo ----------------------------------------------------------------- */

static int send_unit(void *p)
{
	return chan_send((chan_t *)p, NULL); /* Go: ch <- struct{}{} */
}

struct drain {
	chan_t *ch;
	int n;
};

static void *drainer(void *p)
{
	struct drain *d = p;
	for (int i = 0; i < d->n; i++)
		chan_recv(d->ch, NULL, NULL);
	return NULL;
}

Test(group_errgroup, try_go, .timeout = 60)
{
	gogroup_t *g = gogroup_new();
	chan_t *ch = chan_new(0, 0);
	const int n = 42;
	cr_assert(g && ch);
	cr_assert_eq(gogroup_set_limit(g, n), 0);
	for (int i = 0; i < n; i++)
		cr_assert_eq(gogroup_try_go(g, send_unit, ch), 0, "TryGo failed at %d", i);
	cr_assert_eq(gogroup_try_go(g, send_unit, ch), EAGAIN, "TryGo at the limit");
	struct drain d = {ch, n};
	tu_go_t th = tu_spawn(drainer, &d);
	cr_assert_eq(gogroup_wait(g), 0);
	tu_join(th);
	cr_assert_eq(gogroup_try_go(g, send_unit, ch), 0, "after all tasks");
	d.n = 1;
	th = tu_spawn(drainer, &d);
	cr_assert_eq(gogroup_wait(g), 0);
	tu_join(th);
	/* Switch limit. */
	cr_assert_eq(gogroup_set_limit(g, 1), 0);
	cr_assert_eq(gogroup_try_go(g, send_unit, ch), 0);
	cr_assert_eq(gogroup_try_go(g, send_unit, ch), EAGAIN);
	th = tu_spawn(drainer, &d);
	cr_assert_eq(gogroup_wait(g), 0);
	tu_join(th);
	/* Block all calls. */
	cr_assert_eq(gogroup_set_limit(g, 0), 0);
	for (int i = 0; i < 1 << 10; i++)
		cr_assert_eq(gogroup_try_go(g, send_unit, ch), EAGAIN);
	cr_assert_eq(gogroup_go(g, send_unit, ch), EDEADLK, "Go would block forever");
	cr_assert_eq(gogroup_go_until(g, chan_now() + MS, send_unit, ch), ETIMEDOUT);
	cr_assert_eq(gogroup_wait(g), 0);
	/* No limit again. */
	cr_assert_eq(gogroup_set_limit(g, -1), 0);
	cr_assert_eq(gogroup_go(g, ret_code, CODE(0)), 0);
	cr_assert_eq(gogroup_wait(g), 0);
	cr_assert_eq(gogroup_free(g), 0);
	chan_unref(ch);
}

/* ---- the context form of a start ------------------------------------------------ */

struct blocked_start {
	gogroup_t *g;
	ctx_t *ctx;
	tu_blocker_t blk;
	int rc;
};

static void *start_blocked(void *p)
{
	struct blocked_start *b = p;
	tu_about_to_block(&b->blk);
	b->rc = gogroup_go_ctx(b->g, b->ctx, ret_code, CODE(0));
	return NULL;
}

Test(group_errgroup, go_ctx_gives_up_when_cancelled, .timeout = 30)
{
	gogroup_t *g = gogroup_new();
	chan_t *gate = chan_new(0, 0);
	cr_assert(g && gate);
	cr_assert_eq(gogroup_set_limit(g, 1), 0);
	cr_assert_eq(gogroup_go(g, wait_gate, gate), 0);
	struct blocked_start b = {g, ctx_with_cancel(ctx_background()), TU_BLOCKER_INIT, -1};
	cr_assert_not_null(b.ctx);
	tu_go_t th = tu_spawn(start_blocked, &b);
	cr_assert(tu_wait_blocked(&b.blk, TU_BLOCK_TIMEOUT_NS), "the start blocks at the limit");
	cr_assert_eq(ctx_cancel(b.ctx), 0);
	tu_join(th);
	cr_assert_eq(b.rc, CTX_CANCELED);
	/* Already done: refused even with a free slot. */
	chan_close(gate);
	cr_assert_eq(gogroup_wait(g), 0);
	cr_assert_eq(gogroup_go_ctx(g, b.ctx, ret_code, CODE(0)), CTX_CANCELED);
	cr_assert_eq(gogroup_go_ctx(g, NULL, ret_code, CODE(0)), EINVAL);
	cr_assert_eq(gogroup_wait(g), 0);
	cr_assert_eq(gogroup_free(g), 0);
	ctx_cancel_release(b.ctx);
	chan_unref(gate);
}

/* ---- misuse -------------------------------------------------------------------- */

struct self {
	gogroup_t *g;
	atomic_int rc;
};

static int self_wait(void *p)
{
	struct self *s = p;
	atomic_store(&s->rc, gogroup_wait(s->g));
	return 0;
}

Test(group_errgroup, misuse, .timeout = 20)
{
	ctx_t *ctx = (ctx_t *)0x1;
	cr_assert_null(gogroup_with_context(NULL, &ctx));
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(ctx, (ctx_t *)0x1, "untouched on failure");
	cr_assert_null(gogroup_with_context(ctx_background(), NULL));
	cr_assert_eq(gogroup_go(NULL, ret_code, NULL), EINVAL);
	cr_assert_eq(gogroup_try_go(NULL, ret_code, NULL), EINVAL);
	cr_assert_eq(gogroup_go_until(NULL, 0, ret_code, NULL), EINVAL);
	cr_assert_eq(gogroup_set_limit(NULL, 1), EINVAL);
	cr_assert_eq(gogroup_wait(NULL), EINVAL);
	cr_assert_eq(gogroup_wait_until(NULL, 0, NULL), EINVAL);
	cr_assert_eq(gogroup_free(NULL), EINVAL);

	struct self s = {.g = gogroup_new()};
	cr_assert_not_null(s.g);
	atomic_init(&s.rc, -1);
	cr_assert_eq(gogroup_go(s.g, NULL, NULL), EINVAL);
	cr_assert_eq(gogroup_set_limit(s.g, INT_MAX), 0, "a huge limit costs no memory");
	cr_assert_eq(gogroup_go(s.g, self_wait, &s), 0);
	cr_assert_eq(gogroup_wait(s.g), 0);
	cr_assert_eq(atomic_load(&s.rc), EDEADLK, "Wait from the group's own task");
	cr_assert_eq(gogroup_free(s.g), 0);
}

Test(group_errgroup, wait_until, .timeout = 20)
{
	gogroup_t *g = gogroup_new();
	chan_t *gate = chan_new(0, 0);
	int first = -1;
	cr_assert(g && gate);
	cr_assert_eq(gogroup_go(g, wait_gate, gate), 0);
	cr_assert_eq(gogroup_go(g, ret_code, CODE(ETIMEDOUT)), 0);
	cr_assert_eq(gogroup_wait_until(g, chan_now() + 5 * MS, &first), ETIMEDOUT);
	cr_assert_eq(first, -1, "untouched on timeout");
	cr_assert_eq(gogroup_free(g), EBUSY);
	chan_close(gate);
	cr_assert_eq(gogroup_wait_until(g, chan_now() + 10 * SECOND, &first), 0);
	cr_assert_eq(first, ETIMEDOUT, "the task's code, told apart from the call's");
	cr_assert_eq(gogroup_free(g), 0);
	chan_unref(gate);
}

/* Tasks that start tasks in their own group: Wait waits for all of them. */
struct tree {
	gogroup_t *g;
	atomic_int ran;
	int depth;
};

struct node {
	struct tree *t;
	int depth;
};

static int spread(void *p)
{
	struct node *n = p;
	atomic_fetch_add(&n->t->ran, 1);
	if (n->depth == 0) {
		free(n);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		struct node *c = malloc(sizeof *c);
		if (!c)
			return ENOMEM;
		*c = (struct node){n->t, n->depth - 1};
		int err = gogroup_go(n->t->g, spread, c);
		if (err) {
			free(c);
			return err;
		}
	}
	free(n);
	return 0;
}

Test(group_errgroup, tasks_start_tasks, .timeout = 60)
{
	struct tree t = {.g = gogroup_new()};
	struct node *root = malloc(sizeof *root);
	cr_assert(t.g && root);
	atomic_init(&t.ran, 0);
	*root = (struct node){&t, 6};
	cr_assert_eq(gogroup_go(t.g, spread, root), 0);
	cr_assert_eq(gogroup_wait(t.g), 0);
	cr_assert_eq(atomic_load(&t.ran), (1 << 7) - 1,
		     "every descendant ran before Wait returned");
	cr_assert_eq(gogroup_free(t.g), 0);
}
