/*
 * tests/test_context_api.c - the C side of gochan's context API
 * (include/gochan/context.h) that Go's tests cannot cover: misuse, errors,
 * the Done channel's shape and laziness, first-cancel-wins with timers,
 * deadlines, reference counting and unlinking (a long-lived parent with many
 * short-lived children does not grow), CTX_SCOPED, AfterFunc lifetime, and
 * ctx_send / ctx_recv / ctx_select.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_context_util.h"
#include "tests/leakcheck.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(context_api);

#define MS GOTIME_MILLISECOND
#define VERY_LONG (1000 * GOTIME_HOUR)
#define PATIENCE (10 * GOTIME_SECOND)

static void noop(void *arg)
{
	(void)arg;
}

/* ---- misuse -------------------------------------------------------------- */

Test(context_api, null_arguments_einval, .timeout = 5)
{
	static const int key;
#define EXPECT_NULL_EINVAL(call)                                        \
	do {                                                            \
		errno = 0;                                              \
		cr_assert_null(call, #call);                            \
		cr_assert_eq(errno, EINVAL, #call ": errno %d", errno); \
	} while (0)
	EXPECT_NULL_EINVAL(ctx_with_cancel(NULL));
	EXPECT_NULL_EINVAL(ctx_with_cancel_cause(NULL));
	EXPECT_NULL_EINVAL(ctx_with_deadline(NULL, chan_now() + MS));
	EXPECT_NULL_EINVAL(ctx_with_deadline_cause(NULL, chan_now() + MS, 5, NULL));
	EXPECT_NULL_EINVAL(ctx_with_timeout(NULL, MS));
	EXPECT_NULL_EINVAL(ctx_with_timeout_cause(NULL, MS, 5, NULL));
	EXPECT_NULL_EINVAL(ctx_with_value(NULL, &key, NULL));
	EXPECT_NULL_EINVAL(ctx_with_value(ctx_background(), NULL, NULL));
	EXPECT_NULL_EINVAL(ctx_without_cancel(NULL));
	EXPECT_NULL_EINVAL(ctx_after_func(NULL, noop, NULL));
	EXPECT_NULL_EINVAL(ctx_after_func(ctx_background(), NULL, NULL));
	EXPECT_NULL_EINVAL(ctx_done(NULL));

	cr_assert_eq(ctx_err(NULL), EINVAL);
	void *data = &data;
	cr_assert_eq(ctx_cause(NULL, &data), EINVAL);
	cr_assert_null(data);
	cr_assert_eq(ctx_cancel(NULL), EINVAL);
	cr_assert_eq(ctx_cancel_cause(NULL, 3, NULL), EINVAL);
	cr_assert_not(ctx_deadline(NULL, NULL));
	cr_assert_null(ctx_value(NULL, &key));
	cr_assert_null(ctx_value(ctx_background(), NULL));
	cr_assert_not(ctx_after_stop(NULL));
	ctx_release(NULL);
	ctx_cancel_release(NULL);
	ctx_after_release(NULL);
	cr_assert_null(ctx_ref(NULL));

	chan_t *ch = chan_new(sizeof(int), 1);
	int v = 1;
	bool ok;
	cr_assert_eq(ctx_send(NULL, ch, &v), EINVAL);
	cr_assert_eq(ctx_send(ctx_background(), NULL, &v), EDEADLK);
	cr_assert_eq(ctx_recv(NULL, ch, &v, &ok), EINVAL);
	cr_assert_eq(ctx_recv(ctx_background(), NULL, &v, &ok), EDEADLK);
	cr_assert_eq(ctx_select(NULL, NULL, 0), -EINVAL);
	cr_assert_eq(ctx_select(ctx_background(), NULL, 1), -EINVAL);
	ctx_t *c = ctx_with_cancel(ctx_background());
	cr_assert_eq(ctx_send(c, ch, NULL), EINVAL, "NULL elem on an int channel");
	ctx_cancel_release(c);
	cr_assert_eq(chan_unref(ch), 0);
}

Test(context_api, cancel_needs_a_cancelable_context, .timeout = 5)
{
	static const int key;
	ctx_t *c = ctx_with_cancel(ctx_background());
	ctx_t *v = ctx_with_value(c, &key, NULL);
	ctx_t *w = ctx_without_cancel(c);
	cr_assert_eq(ctx_cancel(v), EINVAL);
	cr_assert_eq(ctx_cancel_cause(v, 9, NULL), EINVAL);
	cr_assert_eq(ctx_cancel(w), EINVAL);
	cr_assert_eq(ctx_cancel(ctx_todo()), EINVAL);
	cr_assert_eq(ctx_err(c), 0, "a refused cancel changed nothing");
	ctx_cancel_release(w); /* not cancelable: only released */
	ctx_cancel_release(v);
	cr_assert_eq(ctx_err(c), 0);
	ctx_cancel_release(c);
	cr_assert_eq(ctx__live(), 0);
}

Test(context_api, strerror_wording, .timeout = 5)
{
	cr_assert_neq(CTX_CANCELED, CTX_DEADLINE_EXCEEDED);
	cr_assert_str_eq(ctx_strerror(CTX_CANCELED), "context canceled");
	cr_assert_str_eq(ctx_strerror(CTX_DEADLINE_EXCEEDED), "context deadline exceeded");
	cr_assert_str_eq(ctx_strerror(-CTX_CANCELED), "context canceled");
	cr_assert_str_eq(ctx_strerror(EPIPE), chan_strerror(EPIPE));
	cr_assert_not_null(ctx_strerror(12345));
	/* Every code chan_strerror words is worded the same here (ctx_send
	 * on a Done or timer channel returns EPERM, a chan_ code: it got
	 * libc's "Operation not permitted"), and a code it does not know
	 * (gogroup's EDEADLK) gets libc's wording rather than none. */
	static const int chan_codes[] = {0,     EINVAL, EPIPE,     EALREADY, EAGAIN,
					 EBUSY, ENOMEM, ETIMEDOUT, EPERM};
	for (size_t i = 0; i < sizeof chan_codes / sizeof *chan_codes; i++) {
		int e = chan_codes[i];
		if (e == CTX_DEADLINE_EXCEEDED)
			continue; /* the context's own wording wins */
		cr_assert_str_eq(ctx_strerror(e), chan_strerror(e), "code %d", e);
		cr_assert_str_eq(ctx_strerror(-e), chan_strerror(e), "code -%d", e);
	}
	cr_assert_str_eq(ctx_strerror(EDEADLK), strerror(EDEADLK));
}

/* ---- Done ------------------------------------------------------------------ */

Test(context_api, done_channel_shape, .timeout = 5)
{
	ctx_t *c = ctx_with_cancel(ctx_background());
	chan_t *d = ctx_done(c);
	cr_assert_not_null(d);
	cr_assert_eq(ctx_done(c), d, "Successive calls to Done return the same value");
	cr_assert_eq(chan_elem_size(d), 0);
	cr_assert_eq(chan_cap(d), 0);
	cr_assert_not(chan_is_closed(d));
	ctx_cancel(c);
	cr_assert(chan_is_closed(d), "cancel closes Done synchronously");
	cr_assert_eq(ctx_done(c), d);
	bool ok = true;
	cr_assert_eq(chan_recv(d, NULL, &ok), 0);
	cr_assert_not(ok);
	ctx_cancel_release(c);

	/* Done asked for only after the cancel: already closed. */
	c = ctx_with_cancel(ctx_background());
	ctx_cancel(c);
	d = ctx_done(c);
	cr_assert_not_null(d);
	cr_assert(chan_is_closed(d));
	cr_assert_eq(ctx_done(c), d);
	ctx_cancel_release(c);
}

Test(context_api, first_cancel_wins, .timeout = 10)
{
	static int a, b;
	void *data;
	ctx_t *c = ctx_with_cancel_cause(ctx_background());
	cr_assert_eq(ctx_cancel_cause(c, 11, &a), 0);
	cr_assert_eq(ctx_cancel_cause(c, 22, &b), 0, "a second cancel is a no-op");
	cr_assert_eq(ctx_cancel(c), 0);
	cr_assert_eq(ctx_cause(c, &data), 11);
	cr_assert_eq(data, &a);
	cr_assert_eq(ctx_err(c), CTX_CANCELED);
	ctx_cancel_release(c);

	/* A cause of 0 with data: no cause (Go's cancel(nil)); data dropped. */
	c = ctx_with_cancel_cause(ctx_background());
	ctx_cancel_cause(c, 0, &a);
	cr_assert_eq(ctx_cause(c, &data), CTX_CANCELED);
	cr_assert_null(data);
	ctx_cancel_release(c);

	/* The deadline after a cancel changes nothing; a cancel after the
	 * deadline neither.  The timer thread is held until the cancel is done:
	 * otherwise a thread descheduled for the 2 ms cancels after it. */
	struct tu_timer_hold h;
	cr_assert(tu_timer_hold(&h, PATIENCE), "the timer thread could not be held");
	c = ctx_with_timeout_cause(ctx_background(), 2 * MS, 33, &a);
	ctx_cancel_cause(c, 44, &b);
	cr_assert(tu_timer_release(&h), "the timer thread did not go on");
	ctx_t *probe = ctx_with_timeout(ctx_background(), 20 * MS);
	chan_recv(ctx_done(probe), NULL, NULL);
	cr_assert_eq(ctx_err(c), CTX_CANCELED);
	cr_assert_eq(ctx_cause(c, NULL), 44);
	ctx_cancel_release(c);
	ctx_cancel_release(probe);

	c = ctx_with_timeout_cause(ctx_background(), MS, 33, &a);
	chan_recv(ctx_done(c), NULL, NULL);
	ctx_cancel_cause(c, 44, &b);
	cr_assert_eq(ctx_err(c), CTX_DEADLINE_EXCEEDED);
	cr_assert_eq(ctx_cause(c, &data), 33);
	cr_assert_eq(data, &a);
	ctx_cancel_release(c);
}

/* ---- deadlines ------------------------------------------------------------ */

Test(context_api, deadlines, .timeout = 10)
{
	static const int key;
	int64_t d = 0, now = chan_now();

	ctx_t *c = ctx_with_cancel(ctx_background());
	cr_assert_not(ctx_deadline(c, &d));
	ctx_t *f = ctx_with_deadline(c, CHAN_FOREVER);
	cr_assert_not(ctx_deadline(f, &d), "CHAN_FOREVER: no deadline");
	cr_assert_not(ctx__timer_pending(f));

	ctx_t *t = ctx_with_deadline(c, now + VERY_LONG);
	cr_assert(ctx_deadline(t, &d));
	cr_assert_eq(d, now + VERY_LONG);
	ctx_t *v = ctx_with_value(t, &key, NULL);
	ctx_t *cc = ctx_with_cancel(v);
	cr_assert(ctx_deadline(cc, &d), "inherited through value and cancel contexts");
	cr_assert_eq(d, now + VERY_LONG);

	/* Later than the parent's: the parent's. Earlier: its own. */
	ctx_t *later = ctx_with_deadline(cc, now + 2 * VERY_LONG);
	cr_assert(ctx_deadline(later, &d));
	cr_assert_eq(d, now + VERY_LONG);
	cr_assert_not(ctx__timer_pending(later), "no timer when the parent's is sooner");
	ctx_t *sooner = ctx_with_deadline(cc, now + VERY_LONG / 2);
	cr_assert(ctx_deadline(sooner, &d));
	cr_assert_eq(d, now + VERY_LONG / 2);
	cr_assert(ctx__timer_pending(sooner));

	/* A huge timeout saturates instead of wrapping into the past. */
	ctx_t *huge = ctx_with_timeout(ctx_background(), INT64_MAX);
	cr_assert(ctx_deadline(huge, &d));
	cr_assert_gt(d, now);
	cr_assert_eq(ctx_err(huge), 0);
	ctx_t *neg = ctx_with_timeout(ctx_background(), -5);
	cr_assert_eq(ctx_err(neg), CTX_DEADLINE_EXCEEDED);

	ctx_t *rel[] = {neg, huge, sooner, later, cc, v, t, f, c};
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++)
		ctx_cancel_release(rel[i]);
	cr_assert_eq(ctx__live(), 0);
}

/* ---- lifetime ------------------------------------------------------------- */

Test(context_api, children_keep_parents_alive, .timeout = 10)
{
	static const int key;
	ctx_t *p = ctx_with_cancel(ctx_background());
	ctx_t *v = ctx_with_value(p, &key, (void *)&key);
	ctx_t *c = ctx_with_cancel(v);
	ctx_t *extra = ctx_ref(c);
	cr_assert_eq(extra, c);
	/* Drop the parents' own references first: the child still works. */
	ctx_release(v);
	ctx_t *p_alias = ctx_ref(p);
	ctx_release(p);
	cr_assert_eq(ctx_value(c, &key), &key);
	ctx_cancel(p_alias);
	cr_assert(done_now(c));
	ctx_release(p_alias);
	ctx_release(extra);
	cr_assert_eq(ctx_err(c), CTX_CANCELED);
	cr_assert_eq(ctx__live(), 3);
	ctx_cancel_release(c);
	cr_assert_eq(ctx__live(), 0, "the chain is freed with its last child");
}

Test(context_api, uncancelled_child_unlinks_on_release, .timeout = 10)
{
	ctx_t *p = ctx_with_cancel(ctx_background());
	ctx_t *c = ctx_with_cancel(p);
	ctx_t *g = ctx_with_cancel(c);
	cr_assert_eq(ctx__nchildren(p), 1);
	ctx_release(g); /* no cancel: nobody can observe it any more */
	cr_assert_eq(ctx__nchildren(c), 0);
	ctx_release(c);
	cr_assert_eq(ctx__nchildren(p), 0);
	cr_assert_eq(ctx_err(p), 0);
	ctx_cancel_release(p);
	cr_assert_eq(ctx__live(), 0);
}

Test(context_api, uncancelled_child_unlinked_by_parent_cancel, .timeout = 10)
{
	ctx_t *p = ctx_with_cancel(ctx_background());
	ctx_t *c = ctx_with_cancel(p);
	cr_assert_eq(ctx__nchildren(p), 1);
	ctx_cancel(p);
	cr_assert_eq(ctx__nchildren(p), 0, "the cancelled parent holds nothing of its child");
	cr_assert_eq(ctx_err(c), CTX_CANCELED);
	ctx_release(c); /* never cancelled by its owner: only released */
	ctx_release(p);
	cr_assert_eq(ctx__live(), 0);
}

/* Go's "a long-lived parent with millions of short-lived children": every
 * kind of short-lived child leaves nothing behind in the parent. */
Test(context_api, long_lived_parent_does_not_grow, .timeout = 120)
{
	static const int key;
	ctx_t *parent = ctx_with_cancel(ctx_background());
	ctx_t *vparent = ctx_with_value(parent, &key, NULL);
	enum {
		N = 200000
	};
	for (int i = 0; i < N; i++) {
		ctx_t *c;
		switch (i % 4) {
		case 0:
			c = ctx_with_cancel(vparent);
			break;
		case 1:
			c = ctx_with_timeout(parent, VERY_LONG);
			break;
		case 2:
			c = ctx_with_timeout_cause(vparent, VERY_LONG, 7, NULL);
			break;
		default: {
			ctx_after_t *a = ctx_after_func(parent, noop, NULL);
			cr_assert(ctx_after_stop(a));
			ctx_after_release(a);
			c = ctx_with_cancel(parent);
			(void)ctx_done(c); /* with a Done channel too */
			break;
		}
		}
		cr_assert_not_null(c);
		ctx_cancel_release(c);
		if (i % 50000 == 0) {
			cr_assert_eq(ctx__nchildren(parent), 0);
			cr_assert_eq(ctx__live(), 2, "live %ld", ctx__live());
		}
	}
	/* Never cancelled, only released: still nothing left. */
	for (int i = 0; i < N / 4; i++)
		ctx_release(ctx_with_cancel(vparent));
	cr_assert_eq(ctx__nchildren(parent), 0);
	cr_assert_eq(ctx__live(), 2);
	ctx_release(vparent);
	ctx_cancel_release(parent);
	cr_assert_eq(ctx__live(), 0);
}

/* A deadline context released without cancel lives until its timer fires
 * (Go: "leaks until the timer fires"), then goes away by itself.  The timer
 * thread is held while the count is taken: otherwise a thread descheduled
 * for the 5 ms between the release and the count sees it already freed. */
Test(context_api, timer_holds_context_until_it_fires, .timeout = 10)
{
	struct tu_timer_hold h;
	cr_assert(tu_timer_hold(&h, PATIENCE), "the timer thread could not be held");
	ctx_t *p = ctx_with_cancel(ctx_background());
	ctx_t *t = ctx_with_timeout(p, 5 * MS);
	ctx_release(p);
	ctx_release(t);
	cr_assert_gt(ctx__live(), 0, "the pending timer keeps it");
	cr_assert(tu_timer_release(&h), "the timer thread did not go on");
	cr_assert(wait_no_live(PATIENCE), "context not freed after its timer fired");
}

Test(context_api, scoped_cancels_and_releases, .timeout = 10)
{
	ctx_t *parent = ctx_with_cancel(ctx_background());
	ctx_t *outer_view;
	{
		CTX_SCOPED ctx_t *ctx = ctx_with_timeout(parent, VERY_LONG);
		cr_assert_not_null(ctx);
		outer_view = ctx_with_cancel(ctx);
		cr_assert_eq(ctx_err(outer_view), 0);
	}
	cr_assert_eq(ctx_err(outer_view), CTX_CANCELED, "leaving the scope cancelled it");
	cr_assert_eq(ctx__nchildren(parent), 0);
	ctx_cancel_release(outer_view);
	ctx_cancel_release(parent);
	cr_assert_eq(ctx__live(), 0);
}

/* ---- AfterFunc lifetime ----------------------------------------------------- */

Test(context_api, after_func_on_never_done_context, .timeout = 5)
{
	static const int key;
	ctx_t *v = ctx_with_value(ctx_background(), &key, NULL);
	ctx_t *wp = ctx_with_cancel(ctx_background());
	ctx_t *w = ctx_without_cancel(wp);
	ctx_t *targets[] = {ctx_background(), ctx_todo(), v, w};
	for (int i = 0; i < 4; i++) {
		ctx_after_t *a = ctx_after_func(targets[i], noop, NULL);
		cr_assert_not_null(a);
		cr_assert(ctx_after_stop(a));
		cr_assert_not(ctx_after_stop(a));
		ctx_after_release(a);
		/* Released without stop: freed, never runs. */
		ctx_after_release(ctx_after_func(targets[i], noop, NULL));
	}
	ctx_release(v);
	ctx_release(w);
	ctx_cancel_release(wp);
	cr_assert_eq(ctx__live(), 0);
}

struct count_fn {
	atomic_int runs;
	chan_t *all; /* closed by the last one */
	int expect;
};

static void count_fn(void *arg)
{
	struct count_fn *cf = arg;
	if (atomic_fetch_add(&cf->runs, 1) + 1 == cf->expect)
		chan_close(cf->all);
}

Test(context_api, after_funcs_many_each_once, .timeout = 30)
{
	enum {
		N = 200
	};
	struct count_fn cf = {.expect = N};
	atomic_init(&cf.runs, 0);
	cf.all = chan_new(0, 0);
	ctx_t *root = ctx_with_cancel(ctx_background());
	ctx_t *mid = ctx_with_timeout(root, VERY_LONG);
	for (int i = 0; i < N; i++)
		ctx_after_release(ctx_after_func(i % 2 ? root : mid, count_fn, &cf));
	cr_assert_eq(atomic_load(&cf.runs), 0);
	ctx_cancel_release(root);
	cr_assert_eq(chan_recv_until(cf.all, NULL, NULL, chan_now() + PATIENCE), 0);
	ctx_cancel(mid);
	ctx_cancel(mid);
	ctx_cancel_release(mid);
	cr_assert(wait_no_live(PATIENCE));
	cr_assert_eq(atomic_load(&cf.runs), N, "every AfterFunc exactly once");
	chan_unref(cf.all);
}

/* ---- ctx_send / ctx_recv / ctx_select --------------------------------------- */

Test(context_api, ops_succeed_when_ready, .timeout = 10)
{
	ctx_t *ctxs[] = {ctx_background(), ctx_with_cancel(ctx_background()),
			 ctx_with_timeout(ctx_background(), VERY_LONG)};
	for (int k = 0; k < 3; k++) {
		ctx_t *c = ctxs[k];
		chan_t *ch = chan_new(sizeof(int), 2);
		int v = 7, got = 0;
		bool ok = false;
		cr_assert_eq(ctx_send(c, ch, &v), 0);
		cr_assert_eq(ctx_recv(c, ch, &got, &ok), 0);
		cr_assert(ok);
		cr_assert_eq(got, 7);

		v = 8;
		int r = ctx_select(
			c, (chan_case_t[]){CHAN_RECV(ch, &got, &ok), CHAN_SEND(ch, &v, NULL)}, 2);
		cr_assert_eq(r, 1, "only the send is ready");
		r = ctx_select(c, (chan_case_t[]){CHAN_RECV(ch, &got, &ok)}, 1);
		cr_assert_eq(r, 0);
		cr_assert_eq(got, 8);

		chan_close(ch);
		cr_assert_eq(ctx_send(c, ch, &v), EPIPE);
		ok = true;
		cr_assert_eq(ctx_recv(c, ch, &got, &ok), 0);
		cr_assert_not(ok, "closed and drained");
		cr_assert_eq(chan_unref(ch), 0);
		ctx_cancel_release(c);
	}
}

Test(context_api, ops_return_at_once_when_done, .timeout = 10)
{
	ctx_t *c = ctx_with_cancel(ctx_background());
	ctx_cancel(c);
	ctx_t *t = ctx_with_timeout(ctx_background(), 0);
	chan_t *ready = chan_new(sizeof(int), 1);
	int v = 1;
	chan_send(ready, &v);
	ctx_t *ctxs[] = {c, t};
	int want[] = {CTX_CANCELED, CTX_DEADLINE_EXCEEDED};
	for (int k = 0; k < 2; k++) {
		/* Even with a ready channel, nothing is communicated. */
		cr_assert_eq(ctx_recv(ctxs[k], ready, &v, NULL), want[k]);
		cr_assert_eq(chan_len(ready), 1);
		cr_assert_eq(ctx_select(ctxs[k], (chan_case_t[]){CHAN_RECV(ready, &v, NULL)}, 1),
			     -want[k]);
		cr_assert_eq(chan_len(ready), 1);
		chan_t *empty = chan_new(sizeof(int), 1);
		cr_assert_eq(ctx_send(ctxs[k], empty, &v), want[k]);
		cr_assert_eq(chan_len(empty), 0);
		chan_unref(empty);
	}
	chan_unref(ready);
	ctx_cancel_release(t);
	ctx_cancel_release(c);
}

struct blocked_op {
	ctx_t *ctx;
	chan_t *ch;
	int op; /* 0 send, 1 recv, 2 select */
	int rc;
	tu_blocker_t b;
};

static void *blocked_op_thread(void *arg)
{
	struct blocked_op *bo = arg;
	int v = 3;
	tu_about_to_block(&bo->b);
	if (bo->op == 0)
		bo->rc = ctx_send(bo->ctx, bo->ch, &v);
	else if (bo->op == 1)
		bo->rc = ctx_recv(bo->ctx, bo->ch, &v, NULL);
	else
		bo->rc = -ctx_select(
			bo->ctx,
			(chan_case_t[]){CHAN_RECV(bo->ch, &v, NULL), CHAN_SEND(bo->ch, &v, NULL)},
			2);
	return NULL;
}

Test(context_api, cancel_wakes_blocked_ops, .timeout = 60)
{
	for (int iter = 0; iter < 30; iter++) {
		for (int op = 0; op < 3; op++) {
			ctx_t *c = ctx_with_cancel_cause(ctx_background());
			ctx_t *v = ctx_with_value(c, &iter, NULL);
			chan_t *ch = chan_new(sizeof(int), 0);
			struct blocked_op bo = {.ctx = v, .ch = ch, .op = op, .b = TU_BLOCKER_INIT};
			tu_go_t th = tu_spawn_stack(blocked_op_thread, &bo, 64 * 1024);
			if (iter == 0)
				cr_assert(tu_wait_blocked(&bo.b, TU_BLOCK_TIMEOUT_NS),
					  "op %d never blocked", op);
			ctx_cancel_cause(c, 77, NULL);
			tu_join(th);
			cr_assert_eq(bo.rc, CTX_CANCELED, "op %d: rc %d", op, bo.rc);
			cr_assert_eq(ctx_cause(v, NULL), 77);
			cr_assert_eq(chan_unref(ch), 0);
			ctx_release(v);
			ctx_cancel_release(c);
		}
	}
}

Test(context_api, ops_honour_deadline, .timeout = 20)
{
	for (int op = 0; op < 3; op++) {
		int64_t t0 = chan_now();
		ctx_t *t = ctx_with_timeout_cause(ctx_background(), 30 * MS, 55, NULL);
		ctx_t *c = ctx_with_cancel(t); /* the deadline is inherited */
		chan_t *ch = chan_new(sizeof(int), 0);
		struct blocked_op bo = {.ctx = c, .ch = ch, .op = op, .b = TU_BLOCKER_INIT};
		blocked_op_thread(&bo);
		int64_t el = chan_now() - t0;
		cr_assert_eq(bo.rc, CTX_DEADLINE_EXCEEDED, "op %d: rc %d", op, bo.rc);
		/* The call and Err agree at once, even if the timer is late. */
		cr_assert_eq(ctx_err(c), CTX_DEADLINE_EXCEEDED);
		cr_assert_eq(ctx_err(t), CTX_DEADLINE_EXCEEDED);
		cr_assert_eq(ctx_cause(c, NULL), 55);
		cr_assert_geq(el, 30 * MS, "gave up early: %lld ns", (long long)el);
		cr_assert_lt(el, 5 * GOTIME_SECOND, "liveness: a 30 ms deadline took %lld ms",
			     (long long)(el / MS));
		chan_unref(ch);
		ctx_cancel_release(c);
		ctx_cancel_release(t);
	}
}

Test(context_api, select_many_cases, .timeout = 10)
{
	enum {
		N = 100
	}; /* more than CHAN_SELECT_STACK_CASES */
	chan_t *chs[N];
	chan_case_t cases[N];
	int vals[N];
	for (int i = 0; i < N; i++) {
		chs[i] = chan_new(sizeof(int), 1);
		cases[i] = CHAN_RECV(chs[i], &vals[i], NULL);
	}
	int v = 99;
	chan_send(chs[N - 3], &v);
	ctx_t *c = ctx_with_cancel(ctx_background());
	cr_assert_eq(ctx_select(c, cases, N), N - 3);
	cr_assert_eq(vals[N - 3], 99);
	ctx_cancel(c);
	cr_assert_eq(ctx_select(c, cases, N), -CTX_CANCELED);
	cr_assert_eq(ctx_select(c, NULL, 0), -CTX_CANCELED);
	ctx_cancel_release(c);
	c = ctx_with_timeout(ctx_background(), MS);
	cr_assert_eq(ctx_select(c, cases, N), -CTX_DEADLINE_EXCEEDED);
	ctx_cancel_release(c);
	for (int i = 0; i < N; i++)
		chan_unref(chs[i]);
}

/* ---- memory ordering ---------------------------------------------------- */

struct mo {
	ctx_t *ctx;
	int payload; /* plain: ordered only by cancel -> Done */
	int cause_payload;
};

static void *mo_writer(void *arg)
{
	struct mo *m = arg;
	m->payload = 42;
	m->cause_payload = 43;
	ctx_cancel_cause(m->ctx, 5, &m->cause_payload);
	return NULL;
}

Test(context_api, cancel_happens_before_done_and_err, .timeout = 30)
{
	for (int i = 0; i < 500; i++) {
		struct mo m = {.ctx = ctx_with_cancel_cause(ctx_background())};
		chan_t *d = ctx_done(m.ctx);
		tu_go_t th = tu_spawn_stack(mo_writer, &m, 64 * 1024);
		if (i % 2) {
			chan_recv(d, NULL, NULL);
			cr_assert_eq(m.payload, 42);
		} else {
			void *data;
			while (ctx_cause(m.ctx, &data) == 0)
				tu_yield();
			cr_assert_eq(*(int *)data, 43);
		}
		tu_join(th);
		ctx_cancel_release(m.ctx);
	}
}

/* A non-zero Err always comes with a closed Done, even while the cancel
 * that sets it is still walking a large subtree. */
static void *cancel_root_thread(void *arg)
{
	ctx_cancel(arg);
	return NULL;
}

Test(context_api, err_implies_done_closed, .timeout = 60)
{
	enum {
		N = 300
	};
	for (int iter = 0; iter < 400; iter++) {
		ctx_t *root = ctx_with_cancel(ctx_background());
		ctx_t *nodes[N];
		ctx_t *p = root;
		for (int i = 0; i < N; i++) /* a chain: a long walk for the cancel */
			p = nodes[i] = ctx_with_cancel(p);
		ctx_t *leaf = nodes[N - 1];
		chan_t *d = ctx_done(leaf);
		tu_go_t th = tu_spawn_stack(cancel_root_thread, root, 64 * 1024);
		while (ctx_err(leaf) == 0)
			tu_yield();
		cr_assert(chan_is_closed(d), "Err set but Done still open");
		cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(d, NULL, NULL)), 0);
		tu_join(th);
		for (int i = N - 1; i >= 0; i--)
			ctx_cancel_release(nodes[i]);
		ctx_cancel_release(root);
	}
	cr_assert_eq(ctx__live(), 0);
}

/* A deep chain (cancel walks it without recursion and with one lock at a
 * time) is cancelled whole, from the top and from the middle at once. */
Test(context_api, deep_chain, .timeout = 60)
{
	enum {
		N = 20000
	};
	ctx_t **n = calloc(N, sizeof(ctx_t *));
	ctx_t *p = ctx_with_cancel(ctx_background());
	ctx_t *root = p;
	for (int i = 0; i < N; i++)
		p = n[i] = i % 3 == 2 ? ctx_with_timeout(p, VERY_LONG - (int64_t)i * MS)
				      : ctx_with_cancel(p);
	tu_go_t th = tu_spawn_stack(cancel_root_thread, n[N / 2], 64 * 1024);
	ctx_cancel(root);
	tu_join(th);
	for (int i = 0; i < N; i++) {
		cr_assert_neq(ctx_err(n[i]), 0, "node %d not done", i);
		cr_assert_eq(ctx__nchildren(n[i]), 0);
		cr_assert_not(ctx__timer_pending(n[i]));
	}
	/* Release from the top: the chain is freed from the bottom, iteratively. */
	ctx_release(root);
	for (int i = 0; i < N; i++)
		ctx_release(n[i]);
	cr_assert_eq(ctx__live(), 0);
	free(n);
}
