/*
 * tests/test_context_go.c - ports of Go's context tests (src/context/
 * x_test.go, context_test.go's XTest* and afterfunc_test.go) to gochan's
 * ctx_ API (include/gochan/context.h).
 *
 * Go's otherContext (a Context type the package does not know, wrapping one
 * it does) has no C counterpart: every ctx_t is one of ours.  Its role in
 * these tests - a context that is not itself cancelable but delegates Done,
 * Err and Deadline to the one it wraps - is played by a value context, which
 * the implementation must also see through (Go's parentCancelCtx).  Go's
 * error values for causes become int codes (plus an unused data pointer).
 *
 * Go's "the AfterFunc did not run within shortDuration" checks are kept as
 * bounded waits for an event that must NOT happen; nothing waits a fixed
 * time to let something else happen.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/fiber.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "test_context_util.h"
#include "tests/leakcheck.h"
#include "tests/test_bubble_util.h"
#include "testutil.h"

TB_SUITE(context_go);

#define SHORT (1 * GOTIME_MILLISECOND) /* Go's shortDuration */
#define VERY_LONG (1000 * GOTIME_HOUR) /* Go's veryLongDuration */
#define QUIESCENT (10 * GOTIME_SECOND) /* Go's quiescent(t) */

/* Wait (bounded) for @c's Done to be closed. */
static bool wait_done(ctx_t *c, int64_t patience)
{
	chan_t *d = ctx_done(c);
	if (!d)
		return false;
	return CHAN_SELECT(chan_now() + patience, CHAN_RECV(d, NULL, NULL)) == 0;
}

/* ---- Background, TODO --------------------------------------------------- */

TB_TEST(context_go, background_todo, .timeout = 5)
{
	ctx_t *roots[] = {ctx_background(), ctx_todo()};
	cr_assert_neq(roots[0], roots[1], "Background and TODO are distinct");
	for (int i = 0; i < 2; i++) {
		ctx_t *c = roots[i];
		int64_t d = 42;
		cr_assert_not_null(c);
		cr_assert_null(ctx_done(c), "Done is Go's nil channel");
		cr_assert_eq(ctx_err(c), 0);
		cr_assert_eq(ctx_cause(c, NULL), 0);
		cr_assert_not(ctx_deadline(c, &d));
		cr_assert_eq(d, 42);
		static const int k;
		cr_assert_null(ctx_value(c, &k));
		/* A NULL Done in a select is never ready. */
		cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(ctx_done(c), NULL, NULL)),
			     CHAN_DEFAULT);
		cr_assert_eq(ctx_cancel(c), EINVAL, "roots have no cancel function");
		ctx_release(ctx_ref(c)); /* no-ops on static roots */
		cr_assert_eq(ctx_err(c), 0);
	}
}

/* ---- TestWithCancel --------------------------------------------------- */

TB_TEST(context_go, with_cancel, .timeout = 10)
{
	static const int okey;
	ctx_t *c1 = ctx_with_cancel(ctx_background());
	cr_assert_not_null(c1);
	ctx_t *o = ctx_with_value(c1, &okey, NULL); /* otherContext{c1} */
	ctx_t *c2 = ctx_with_cancel(o);
	ctx_t *contexts[] = {c1, o, c2};

	for (int i = 0; i < 3; i++) {
		cr_assert_not_null(ctx_done(contexts[i]), "c[%d].Done() == nil", i);
		cr_assert_eq(ctx_err(contexts[i]), 0, "c[%d].Err() != nil", i);
		cr_assert_not(done_now(contexts[i]), "<-c[%d].Done() should block", i);
	}
	cr_assert_eq(ctx_done(o), ctx_done(c1), "a value context has its parent's Done");

	cr_assert_eq(ctx_cancel(c1), 0); /* should propagate synchronously */
	for (int i = 0; i < 3; i++) {
		cr_assert(done_now(contexts[i]), "<-c[%d].Done() blocked", i);
		cr_assert_eq(ctx_err(contexts[i]), CTX_CANCELED, "c[%d].Err() = %d", i,
			     ctx_err(contexts[i]));
	}
	ctx_cancel_release(c2);
	ctx_release(o);
	ctx_cancel_release(c1);
}

/* ---- XTestParentFinishesChild / XTestChildFinishesFirst / XTestCancelRemoves */

TB_TEST(context_go, parent_finishes_child, .timeout = 10)
{
	static const int vkey;
	/* The parent may be a cancel context or a deadline context. */
	for (int kind = 0; kind < 2; kind++) {
		ctx_t *parent = kind ? ctx_with_timeout(ctx_background(), VERY_LONG)
				     : ctx_with_cancel(ctx_background());
		cr_assert_not_null(parent);
		ctx_t *cancel_child = ctx_with_cancel(parent);
		ctx_t *valued = ctx_with_value(parent, &vkey, NULL);
		ctx_t *timer_child =
			ctx_with_timeout(valued, VERY_LONG / 2); /* sooner than the parent's */
		ctx_t *after_value = ctx_with_cancel(valued);

		/* Value contexts are skipped: every cancelable descendant is
		 * registered with the parent itself. */
		cr_assert_eq(ctx__nchildren(parent), 3);
		cr_assert(ctx__timer_pending(timer_child));
		cr_assert_not(done_now(parent));

		ctx_cancel(parent);
		ctx_t *all[] = {parent, cancel_child, valued, timer_child, after_value};
		for (int i = 0; i < 5; i++) {
			cr_assert(done_now(all[i]), "context %d not done", i);
			cr_assert_eq(ctx_err(all[i]), CTX_CANCELED);
			cr_assert_eq(ctx_cause(all[i], NULL), CTX_CANCELED);
		}
		cr_assert_eq(ctx__nchildren(parent), 0, "parent.children not emptied");
		cr_assert_not(ctx__timer_pending(timer_child), "child's timer not stopped");

		ctx_cancel_release(after_value);
		ctx_cancel_release(timer_child);
		ctx_release(valued);
		ctx_cancel_release(cancel_child);
		ctx_cancel_release(parent);
	}
}

TB_TEST(context_go, child_finishes_first, .timeout = 10)
{
	for (int kind = 0; kind < 2; kind++) {
		ctx_t *parent = kind ? ctx_with_timeout(ctx_background(), VERY_LONG)
				     : ctx_with_cancel(ctx_background());
		ctx_t *child = ctx_with_cancel(parent);
		cr_assert_eq(ctx__nchildren(parent), 1);
		ctx_cancel(child);
		cr_assert(done_now(child));
		cr_assert_eq(ctx_err(child), CTX_CANCELED);
		cr_assert_eq(ctx__nchildren(parent), 0, "child not removed from parent");
		cr_assert_not(done_now(parent), "parent cancelled by its child");
		cr_assert_eq(ctx_err(parent), 0);
		ctx_cancel_release(child);
		ctx_cancel_release(parent);
	}
}

TB_TEST(context_go, cancel_removes, .timeout = 10)
{
	ctx_t *root = ctx_with_cancel(ctx_background());
	cr_assert_eq(ctx__nchildren(root), 0);

	ctx_t *c = ctx_with_cancel(root);
	cr_assert_eq(ctx__nchildren(root), 1);
	ctx_cancel(c);
	cr_assert_eq(ctx__nchildren(root), 0);

	ctx_t *t = ctx_with_timeout(root, VERY_LONG);
	cr_assert_eq(ctx__nchildren(root), 1);
	cr_assert(ctx__timer_pending(t));
	ctx_cancel(t);
	cr_assert_eq(ctx__nchildren(root), 0);
	cr_assert_not(ctx__timer_pending(t), "cancel did not stop the timer");

	ctx_cancel_release(t);
	ctx_cancel_release(c);
	ctx_cancel_release(root);
}

/* ---- TestDeadline / TestTimeout / TestCanceledTimeout ------------------- */

static void check_deadline(ctx_t *c, const char *name)
{
	int64_t t0 = chan_now(), dl;

	cr_assert(wait_done(c, QUIESCENT), "%s: context not timed out", name);
	/* In a bubble Done closes exactly at the deadline (or at once if it
	 * had passed): the clock moved only to get there. */
	cr_assert(ctx_deadline(c, &dl));
	TB_EXACT(chan_now(), dl > t0 ? dl : t0);
	cr_assert_eq(ctx_err(c), CTX_DEADLINE_EXCEEDED, "%s: c.Err() == %d", name, ctx_err(c));
	cr_assert_eq(ctx_cause(c, NULL), CTX_DEADLINE_EXCEEDED, "%s", name);
	cr_assert_str_eq(ctx_strerror(ctx_err(c)), "context deadline exceeded");
}

TB_TEST(context_go, deadline, .timeout = 30)
{
	static const int okey;
	ctx_t *c = ctx_with_deadline(ctx_background(), chan_now() + SHORT);
	int64_t d;
	cr_assert(ctx_deadline(c, &d));
	check_deadline(c, "WithDeadline");
	ctx_cancel_release(c);

	c = ctx_with_deadline(ctx_background(), chan_now() + SHORT);
	ctx_t *o = ctx_with_value(c, &okey, NULL);
	check_deadline(o, "WithDeadline+otherContext");
	ctx_release(o);
	ctx_cancel_release(c);

	c = ctx_with_deadline(ctx_background(), chan_now() + SHORT);
	o = ctx_with_value(c, &okey, NULL);
	ctx_t *c2 = ctx_with_deadline(o, chan_now() + VERY_LONG);
	int64_t pd, cd;
	cr_assert(ctx_deadline(c, &pd) && ctx_deadline(c2, &cd));
	cr_assert_eq(pd, cd, "a child's deadline is never later than its parent's");
	check_deadline(c2, "WithDeadline+otherContext+WithDeadline");
	ctx_cancel_release(c2);
	ctx_release(o);
	ctx_cancel_release(c);

	c = ctx_with_deadline(ctx_background(), chan_now() - SHORT);
	cr_assert(done_now(c), "a deadline in the past is done at once");
	check_deadline(c, "WithDeadline+inthepast");
	ctx_cancel_release(c);

	c = ctx_with_deadline(ctx_background(), chan_now());
	cr_assert(done_now(c));
	check_deadline(c, "WithDeadline+now");
	ctx_cancel_release(c);
}

TB_TEST(context_go, timeout, .timeout = 30)
{
	static const int okey;
	ctx_t *c = ctx_with_timeout(ctx_background(), SHORT);
	check_deadline(c, "WithTimeout");
	ctx_cancel_release(c);

	c = ctx_with_timeout(ctx_background(), SHORT);
	ctx_t *o = ctx_with_value(c, &okey, NULL);
	check_deadline(o, "WithTimeout+otherContext");
	ctx_release(o);
	ctx_cancel_release(c);

	c = ctx_with_timeout(ctx_background(), SHORT);
	o = ctx_with_value(c, &okey, NULL);
	ctx_t *c2 = ctx_with_timeout(o, VERY_LONG);
	check_deadline(c2, "WithTimeout+otherContext+WithTimeout");
	ctx_cancel_release(c2);
	ctx_release(o);
	ctx_cancel_release(c);

	/* Many short timeouts at once: every one fires. */
	enum {
		N = 200
	};
	ctx_t *cs[N];
	for (int i = 0; i < N; i++)
		cs[i] = ctx_with_timeout(ctx_background(), (i % 7) * GOTIME_MICROSECOND * 100);
	for (int i = 0; i < N; i++) {
		check_deadline(cs[i], "many");
		ctx_cancel_release(cs[i]);
	}
}

TB_TEST(context_go, canceled_timeout, .timeout = 10)
{
	static const int okey;
	ctx_t *c = ctx_with_timeout(ctx_background(), GOTIME_SECOND);
	ctx_t *o = ctx_with_value(c, &okey, NULL);
	ctx_t *c2 = ctx_with_timeout(o, VERY_LONG);
	ctx_cancel(c2); /* should propagate synchronously */
	cr_assert(done_now(c2), "<-c.Done() blocked");
	cr_assert_eq(ctx_err(c2), CTX_CANCELED);
	cr_assert_eq(ctx_err(c), 0, "the parent is not cancelled by its child");
	ctx_cancel_release(c2);
	ctx_release(o);
	ctx_cancel_release(c);
}

/* ---- TestValues ---------------------------------------------------------- */

/* Go's k1 = key1(1), k2 = key2(1), k3 = key2(3): three distinct keys. */
static const int k1 = 1, k2 = 1, k3 = 3;

static void check_values(ctx_t *c, const char *nm, const char *v1, const char *v2, const char *v3)
{
	const char *want[3] = {v1, v2, v3};
	const void *keys[3] = {&k1, &k2, &k3};
	for (int i = 0; i < 3; i++) {
		const char *got = ctx_value(c, keys[i]);
		if (!want[i])
			cr_assert_null(got, "%s.Value(k%d) = %s want none", nm, i + 1, got);
		else
			cr_assert(got && strcmp(got, want[i]) == 0, "%s.Value(k%d) = %s want %s",
				  nm, i + 1, got ? got : "(null)", want[i]);
	}
}

TB_TEST(context_go, values, .timeout = 10)
{
	static const int okey;
	ctx_t *c0 = ctx_background();
	check_values(c0, "c0", NULL, NULL, NULL);

	ctx_t *c1 = ctx_with_value(ctx_background(), &k1, "c1k1");
	check_values(c1, "c1", "c1k1", NULL, NULL);

	ctx_t *c2 = ctx_with_value(c1, &k2, "c2k2");
	check_values(c2, "c2", "c1k1", "c2k2", NULL);

	ctx_t *c3 = ctx_with_value(c2, &k3, "c3k3");
	check_values(c3, "c3", "c1k1", "c2k2", "c3k3");

	ctx_t *c4 = ctx_with_value(c3, &k1, NULL);
	check_values(c4, "c4", NULL, "c2k2", "c3k3");

	ctx_t *o0 = ctx_with_value(ctx_background(), &okey, NULL);
	check_values(o0, "o0", NULL, NULL, NULL);

	ctx_t *o1in = ctx_with_value(ctx_background(), &k1, "c1k1");
	ctx_t *o1 = ctx_with_value(o1in, &okey, NULL);
	check_values(o1, "o1", "c1k1", NULL, NULL);

	ctx_t *o2 = ctx_with_value(o1, &k2, "o2k2");
	check_values(o2, "o2", "c1k1", "o2k2", NULL);

	ctx_t *o3 = ctx_with_value(c4, &okey, NULL);
	check_values(o3, "o3", NULL, "c2k2", "c3k3");

	ctx_t *o4 = ctx_with_value(o3, &k3, NULL);
	check_values(o4, "o4", NULL, "c2k2", NULL);

	/* Values pass through cancel, deadline and WithoutCancel contexts. */
	ctx_t *cc = ctx_with_cancel(c3);
	ctx_t *tc = ctx_with_timeout(cc, VERY_LONG);
	ctx_t *wc = ctx_without_cancel(tc);
	check_values(wc, "wc", "c1k1", "c2k2", "c3k3");
	ctx_cancel(cc);
	check_values(wc, "wc after cancel", "c1k1", "c2k2", "c3k3");

	ctx_t *rel[] = {wc, tc, cc, o4, o3, o2, o1, o1in, o0, c4, c3, c2, c1};
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++)
		ctx_cancel_release(rel[i]);
}

/* ---- TestSimultaneousCancels --------------------------------------------- */

struct canceller {
	ctx_t *ctx;
	tu_barrier_t *start;
};

static void *cancel_thread(void *arg)
{
	struct canceller *cl = arg;
	tu_barrier_wait(cl->start);
	ctx_cancel(cl->ctx);
	return NULL;
}

Test(context_go, simultaneous_cancels, .timeout = 60)
{
	enum {
		MAXN = 100 + 4
	};
	for (int iter = 0; iter < 30; iter++) {
		/* A tree of contexts, breadth first, 4 children each. */
		ctx_t *m[MAXN];
		int n = 0, q = 0;
		m[n++] = ctx_with_cancel(ctx_background());
		while (q < n && n < 100) {
			ctx_t *parent = m[q++];
			for (int i = 0; i < 4; i++)
				m[n++] = ctx_with_cancel(parent);
		}
		/* Start all the cancels at once, in a shuffled order. */
		for (int i = n - 1; i > 0; i--) {
			int j = rand() % (i + 1);
			ctx_t *t = m[i];
			m[i] = m[j];
			m[j] = t;
		}
		tu_barrier_t start;
		tu_barrier_init(&start, (unsigned)n);
		struct canceller cl[MAXN];
		tu_go_t th[MAXN];
		for (int i = 0; i < n; i++) {
			cl[i] = (struct canceller){m[i], &start};
			th[i] = tu_spawn_stack(cancel_thread, &cl[i], 64 * 1024);
		}
		/* Wait on all the contexts. */
		for (int i = 0; i < n; i++)
			cr_assert(wait_done(m[i], QUIESCENT), "timed out waiting for <-ctx.Done()");
		for (int i = 0; i < n; i++)
			tu_join(th[i]);
		tu_barrier_destroy(&start);
		for (int i = 0; i < n; i++) {
			cr_assert_eq(ctx_err(m[i]), CTX_CANCELED);
			cr_assert_eq(ctx__nchildren(m[i]), 0);
		}
		for (int i = 0; i < n; i++)
			ctx_cancel_release(m[i]);
	}
	cr_assert_eq(ctx__live(), 0, "contexts leaked: %ld", ctx__live());
}

/* ---- TestInterlockedCancels ---------------------------------------------- */

struct interlock {
	ctx_t *parent, *child;
};

static void *interlock_thread(void *arg)
{
	struct interlock *il = arg;
	chan_recv(ctx_done(il->parent), NULL, NULL); /* <-parent.Done() */
	ctx_cancel(il->child);
	return NULL;
}

Test(context_go, interlocked_cancels, .timeout = 60)
{
	for (int iter = 0; iter < 300; iter++) {
		struct interlock il;
		il.parent = ctx_with_cancel(ctx_background());
		il.child = ctx_with_cancel(il.parent);
		tu_go_t th = tu_spawn_stack(interlock_thread, &il, 64 * 1024);
		ctx_cancel(il.parent);
		cr_assert(wait_done(il.child, QUIESCENT), "timed out waiting for child.Done()");
		tu_join(th);
		ctx_cancel_release(il.child);
		ctx_cancel_release(il.parent);
	}
}

/* ---- TestLayersCancel / TestLayersTimeout -------------------------------- */

static void test_layers(unsigned seed, bool test_timeout)
{
	enum {
		MIN_LAYERS = 30,
		MAX = 256
	};
	ctx_t *made[MAX];
	ctx_t *cancels[MAX];
	int *vals[MAX];
	int nmade = 0, ncancels = 0, nvals = 0, ntimers = 0;
	ctx_t *ctx = ctx_background();

	for (int i = 0; i < MIN_LAYERS || ntimers == 0 || ncancels == 0 || nvals == 0; i++) {
		cr_assert_lt(nmade, MAX - 1);
		switch (rand_r(&seed) % 3) {
		case 0: {
			int *v = malloc(sizeof *v); /* a fresh key, as Go's new(value) */
			ctx = ctx_with_value(ctx, v, v);
			vals[nvals++] = v;
			break;
		}
		case 1:
			ctx = ctx_with_cancel(ctx);
			cancels[ncancels++] = ctx;
			break;
		case 2:
			ctx = ctx_with_timeout(ctx, test_timeout ? SHORT : VERY_LONG);
			cancels[ncancels++] = ctx;
			ntimers++;
			break;
		}
		cr_assert_not_null(ctx);
		made[nmade++] = ctx;
	}
	if (!test_timeout)
		cr_assert_not(done_now(ctx), "seed=%u: ctx should not be canceled yet", seed);
	for (int i = 0; i < nvals; i++)
		cr_assert_eq(ctx_value(ctx, vals[i]), vals[i], "seed=%u: before cancel", seed);
	if (test_timeout) {
		cr_assert(wait_done(ctx, QUIESCENT), "seed=%u: ctx should have timed out", seed);
		cr_assert_eq(ctx_err(ctx), CTX_DEADLINE_EXCEEDED);
	} else {
		ctx_cancel(cancels[rand_r(&seed) % (unsigned)ncancels]);
		cr_assert(done_now(ctx), "seed=%u: ctx should be canceled", seed);
		cr_assert_eq(ctx_err(ctx), CTX_CANCELED);
	}
	for (int i = 0; i < nvals; i++)
		cr_assert_eq(ctx_value(ctx, vals[i]), vals[i], "seed=%u: after cancel", seed);

	/* Releasing in creation order is fine: children keep parents alive. */
	for (int i = 0; i < nmade; i++)
		ctx_cancel_release(made[i]);
	for (int i = 0; i < nvals; i++)
		free(vals[i]);
}

TB_TEST(context_go, layers_cancel, .timeout = 60)
{
	unsigned seed = (unsigned)chan_now();
	for (int i = 0; i < 50; i++)
		test_layers(seed + (unsigned)i, false);
	cr_assert_eq(ctx__live(), 0, "contexts leaked: %ld", ctx__live());
}

TB_TEST(context_go, layers_timeout, .timeout = 60)
{
	unsigned seed = (unsigned)chan_now();
	for (int i = 0; i < 20; i++)
		test_layers(seed + (unsigned)i, true);
}

/* ---- TestWithCancelCanceledParent / ...SimultaneouslyCanceledParent ------ */

enum {
	PARENT_CAUSE = 1001,
	CHILD_CAUSE = 1002,
	TOO_SLOW = 1003,
	FINISHED_EARLY = 1004
};

TB_TEST(context_go, with_cancel_canceled_parent, .timeout = 10)
{
	static int because;
	ctx_t *parent = ctx_with_cancel_cause(ctx_background());
	ctx_cancel_cause(parent, PARENT_CAUSE, &because);

	ctx_t *c = ctx_with_cancel(parent);
	cr_assert(done_now(c), "child not done immediately upon construction");
	cr_assert_eq(ctx_err(c), CTX_CANCELED);
	void *data = NULL;
	cr_assert_eq(ctx_cause(c, &data), PARENT_CAUSE, "child has wrong cause");
	cr_assert_eq(data, &because);
	/* Also through a value context, and for deadline children. */
	ctx_t *v = ctx_with_value(parent, &because, NULL);
	ctx_t *t = ctx_with_timeout(v, VERY_LONG);
	cr_assert(done_now(t));
	cr_assert_eq(ctx_err(t), CTX_CANCELED);
	cr_assert_eq(ctx_cause(t, NULL), PARENT_CAUSE);
	cr_assert_not(ctx__timer_pending(t), "a timer for a context done at birth");
	ctx_cancel_release(t);
	ctx_release(v);
	ctx_cancel_release(c);
	ctx_cancel_release(parent);
}

struct cause_cancel {
	ctx_t *ctx;
	int cause;
	void *data;
};

static void *cause_cancel_thread(void *arg)
{
	struct cause_cancel *cc = arg;
	ctx_cancel_cause(cc->ctx, cc->cause, cc->data);
	return NULL;
}

Test(context_go, with_cancel_simultaneously_canceled_parent, .timeout = 60)
{
	/* Cancel the parent concurrently with creating a child. */
	for (int i = 0; i < 500; i++) {
		static int because;
		ctx_t *parent = ctx_with_cancel_cause(ctx_background());
		struct cause_cancel cc = {parent, PARENT_CAUSE, &because};
		tu_go_t th = tu_spawn_stack(cause_cancel_thread, &cc, 64 * 1024);

		ctx_t *c = ctx_with_cancel(parent);
		cr_assert_eq(chan_recv(ctx_done(c), NULL, NULL), 0); /* <-c.Done() */
		cr_assert_eq(ctx_err(c), CTX_CANCELED);
		void *data = NULL;
		cr_assert_eq(ctx_cause(c, &data), PARENT_CAUSE, "child has wrong cause");
		cr_assert_eq(data, &because);
		tu_join(th);
		ctx_cancel_release(c);
		ctx_cancel_release(parent);
	}
}

/* ---- TestCause (every case) ----------------------------------------------- */

struct made {
	ctx_t *c[4];
	int n;
};

static ctx_t *keep(struct made *m, ctx_t *c)
{
	m->c[m->n++] = c;
	return c;
}

static ctx_t *cause_background(struct made *m)
{
	(void)m;
	return ctx_background();
}
static ctx_t *cause_todo(struct made *m)
{
	(void)m;
	return ctx_todo();
}
static ctx_t *cause_with_cancel(struct made *m)
{
	ctx_t *c = keep(m, ctx_with_cancel(ctx_background()));
	ctx_cancel(c);
	return c;
}
static ctx_t *cause_with_cancel_cause(struct made *m)
{
	ctx_t *c = keep(m, ctx_with_cancel_cause(ctx_background()));
	ctx_cancel_cause(c, PARENT_CAUSE, NULL);
	return c;
}
static ctx_t *cause_with_cancel_cause_nil(struct made *m)
{
	ctx_t *c = keep(m, ctx_with_cancel_cause(ctx_background()));
	ctx_cancel_cause(c, 0, NULL);
	return c;
}
static ctx_t *cause_with_timeout(struct made *m)
{
	ctx_t *c = keep(m, ctx_with_timeout(ctx_background(), 0));
	ctx_cancel(c);
	return c;
}
static ctx_t *cause_with_timeout_canceled(struct made *m)
{
	ctx_t *c = keep(m, ctx_with_timeout(ctx_background(), VERY_LONG));
	ctx_cancel(c);
	return c;
}
static ctx_t *cause_with_timeout_cause(struct made *m)
{
	ctx_t *c = keep(m, ctx_with_timeout_cause(ctx_background(), 0, TOO_SLOW, NULL));
	ctx_cancel(c);
	return c;
}
static ctx_t *cause_with_timeout_cause_canceled(struct made *m)
{
	ctx_t *c = keep(m, ctx_with_timeout_cause(ctx_background(), VERY_LONG, TOO_SLOW, NULL));
	ctx_cancel(c);
	return c;
}
static ctx_t *cause_with_timeout_cause_stacked(struct made *m)
{
	ctx_t *p = keep(m, ctx_with_cancel_cause(ctx_background()));
	ctx_t *c = keep(m, ctx_with_timeout_cause(p, 0, TOO_SLOW, NULL));
	ctx_cancel_cause(p, FINISHED_EARLY, NULL);
	return c;
}
static ctx_t *cause_with_timeout_cause_stacked_canceled(struct made *m)
{
	ctx_t *p = keep(m, ctx_with_cancel_cause(ctx_background()));
	ctx_t *c = keep(m, ctx_with_timeout_cause(p, VERY_LONG, TOO_SLOW, NULL));
	ctx_cancel_cause(p, FINISHED_EARLY, NULL);
	return c;
}
static ctx_t *cause_without_cancel(struct made *m)
{
	return keep(m, ctx_without_cancel(ctx_background()));
}
static ctx_t *cause_without_cancel_canceled(struct made *m)
{
	ctx_t *p = keep(m, ctx_with_cancel_cause(ctx_background()));
	ctx_t *c = keep(m, ctx_without_cancel(p));
	ctx_cancel_cause(p, FINISHED_EARLY, NULL);
	return c;
}
static ctx_t *cause_without_cancel_timeout(struct made *m)
{
	ctx_t *p = keep(m, ctx_with_timeout_cause(ctx_background(), 0, TOO_SLOW, NULL));
	ctx_t *c = keep(m, ctx_without_cancel(p));
	ctx_cancel(p);
	return c;
}
/* Not in Go's table: the timer really firing, with and without a cause. */
static ctx_t *cause_deadline_fires(struct made *m)
{
	ctx_t *c = keep(m, ctx_with_timeout_cause(ctx_background(), SHORT, TOO_SLOW, NULL));
	cr_assert(wait_done(c, QUIESCENT));
	ctx_cancel(c);
	return c;
}
static ctx_t *cause_parent_deadline_earlier(struct made *m)
{
	/* The parent's deadline is sooner: the child is WithCancel, its own
	 * cause is dropped and the parent's expiry reaches it. */
	ctx_t *p = keep(m, ctx_with_timeout(ctx_background(), SHORT));
	ctx_t *c = keep(m, ctx_with_timeout_cause(p, VERY_LONG, TOO_SLOW, NULL));
	cr_assert(wait_done(c, QUIESCENT));
	return c;
}

TB_TEST(context_go, cause, .timeout = 30)
{
	static const struct {
		const char *name;
		ctx_t *(*ctx)(struct made *);
		int err, cause;
	} tests[] = {
		{"Background", cause_background, 0, 0},
		{"TODO", cause_todo, 0, 0},
		{"WithCancel", cause_with_cancel, CTX_CANCELED, CTX_CANCELED},
		{"WithCancelCause", cause_with_cancel_cause, CTX_CANCELED, PARENT_CAUSE},
		{"WithCancelCause nil", cause_with_cancel_cause_nil, CTX_CANCELED, CTX_CANCELED},
		{"WithTimeout", cause_with_timeout, CTX_DEADLINE_EXCEEDED, CTX_DEADLINE_EXCEEDED},
		{"WithTimeout canceled", cause_with_timeout_canceled, CTX_CANCELED, CTX_CANCELED},
		{"WithTimeoutCause", cause_with_timeout_cause, CTX_DEADLINE_EXCEEDED, TOO_SLOW},
		{"WithTimeoutCause canceled", cause_with_timeout_cause_canceled, CTX_CANCELED,
		 CTX_CANCELED},
		{"WithTimeoutCause stacked", cause_with_timeout_cause_stacked,
		 CTX_DEADLINE_EXCEEDED, TOO_SLOW},
		{"WithTimeoutCause stacked canceled", cause_with_timeout_cause_stacked_canceled,
		 CTX_CANCELED, FINISHED_EARLY},
		{"WithoutCancel", cause_without_cancel, 0, 0},
		{"WithoutCancel canceled", cause_without_cancel_canceled, 0, 0},
		{"WithoutCancel timeout", cause_without_cancel_timeout, 0, 0},
		{"deadline fires", cause_deadline_fires, CTX_DEADLINE_EXCEEDED, TOO_SLOW},
		{"parent deadline earlier", cause_parent_deadline_earlier, CTX_DEADLINE_EXCEEDED,
		 CTX_DEADLINE_EXCEEDED},
	};
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		struct made m = {.n = 0};
		ctx_t *c = tests[i].ctx(&m);
		cr_assert_not_null(c, "%s", tests[i].name);
		cr_assert_eq(ctx_err(c), tests[i].err, "%s: ctx.Err() = %d want %d", tests[i].name,
			     ctx_err(c), tests[i].err);
		cr_assert_eq(ctx_cause(c, NULL), tests[i].cause, "%s: Cause(ctx) = %d want %d",
			     tests[i].name, ctx_cause(c, NULL), tests[i].cause);
		for (int j = m.n - 1; j >= 0; j--)
			ctx_cancel_release(m.c[j]);
	}
}

/*
 * TestCause's parent/child cases: a parent p and its child c, each cancelled
 * with a cause (0: Go's cancel(nil) / plain cancel), in either order.  The
 * first cancel to reach c sets c's cause: its own if c goes first, else the
 * parent's (propagated).
 */
TB_TEST(context_go, cause_parent_child, .timeout = 30)
{
	static const struct {
		const char *name;
		bool child_first;
		int pcause, ccause, want;
	} tests[] = {
		{"parent cause before child", false, PARENT_CAUSE, CHILD_CAUSE, PARENT_CAUSE},
		{"parent cause after child", true, PARENT_CAUSE, CHILD_CAUSE, CHILD_CAUSE},
		{"parent cause before nil", false, PARENT_CAUSE, 0, PARENT_CAUSE},
		{"parent cause after nil", true, PARENT_CAUSE, 0, CTX_CANCELED},
		{"child cause after nil", false, 0, CHILD_CAUSE, CTX_CANCELED},
		{"child cause before nil", true, 0, CHILD_CAUSE, CHILD_CAUSE},
	};
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		ctx_t *p = ctx_with_cancel_cause(ctx_background());
		ctx_t *c = ctx_with_cancel_cause(p);
		cr_assert(p && c, "%s", tests[i].name);
		if (tests[i].child_first)
			ctx_cancel_cause(c, tests[i].ccause, NULL);
		ctx_cancel_cause(p, tests[i].pcause, NULL);
		if (!tests[i].child_first)
			ctx_cancel_cause(c, tests[i].ccause, NULL);
		cr_assert_eq(ctx_err(c), CTX_CANCELED, "%s: ctx.Err() = %d", tests[i].name,
			     ctx_err(c));
		cr_assert_eq(ctx_cause(c, NULL), tests[i].want, "%s: Cause(ctx) = %d want %d",
			     tests[i].name, ctx_cause(c, NULL), tests[i].want);
		ctx_cancel_release(c);
		ctx_cancel_release(p);
	}
}

/* TestCauseRace: poll Cause (not Done) while another thread cancels. */
Test(context_go, cause_race, .timeout = 60)
{
	for (int i = 0; i < 300; i++) {
		static int detail;
		ctx_t *ctx = ctx_with_cancel_cause(ctx_background());
		struct cause_cancel cc = {ctx, PARENT_CAUSE, &detail};
		tu_go_t th = tu_spawn_stack(cause_cancel_thread, &cc, 64 * 1024);
		void *data;
		int cause;
		while ((cause = ctx_cause(ctx, &data)) == 0)
			tu_yield();
		cr_assert_eq(cause, PARENT_CAUSE);
		cr_assert_eq(data, &detail);
		tu_join(th);
		ctx_cancel_release(ctx);
	}
}

/* ---- TestWithoutCancel ----------------------------------------------------- */

TB_TEST(context_go, without_cancel, .timeout = 10)
{
	static const char key[] = "key";
	char value[] = "value";
	ctx_t *p = ctx_with_timeout(ctx_background(), VERY_LONG);
	ctx_t *v = ctx_with_value(p, key, value);
	ctx_t *ctx = ctx_without_cancel(v);
	int64_t d = 7;
	cr_assert_not(ctx_deadline(ctx, &d), "ctx.Deadline() ok want false");
	cr_assert_eq(d, 7);
	cr_assert_null(ctx_done(ctx), "ctx.Done() want nil");
	cr_assert_eq(ctx_err(ctx), 0);
	cr_assert_eq(ctx_value(ctx, key), value);
	cr_assert_eq(ctx_cancel(ctx), EINVAL);

	/* A child of WithoutCancel is independent of the original parent. */
	ctx_t *child = ctx_with_cancel(ctx);
	cr_assert_eq(ctx__nchildren(p), 0);
	ctx_cancel(p);
	cr_assert_eq(ctx_err(ctx), 0);
	cr_assert_eq(ctx_err(child), 0);
	cr_assert_not(done_now(child));
	cr_assert_eq(ctx_value(child, key), value);
	ctx_cancel_release(child);
	ctx_release(ctx);
	ctx_release(v);
	ctx_cancel_release(p);
}

/* ---- AfterFunc (x_test.go) ------------------------------------------------- */

struct af {
	chan_t *donec; /* closed (or sent to) by the function */
	bool send;     /* send instead of close */
	pthread_t cancel_thread;
	uint64_t cancel_fiber;    /* in a bubble: the fiber that set it up */
	atomic_bool other_thread; /* in a bubble: another fiber */
	atomic_int calls;
};

static void af_fn(void *arg)
{
	struct af *a = arg;
	chan_t *donec = a->donec; /* @a is not touched after the signal */
	atomic_store_explicit(&a->other_thread,
			      tb_in_bubble() ? gofiber_id() != a->cancel_fiber
					     : !pthread_equal(pthread_self(), a->cancel_thread),
			      memory_order_relaxed);
	atomic_fetch_add_explicit(&a->calls, 1, memory_order_relaxed);
	if (a->send)
		chan_send(donec, NULL); /* blocks until the test receives */
	else
		chan_close(donec);
	chan_unref(donec); /* the reference the test gave this function */
}

static void af_init(struct af *a, bool send)
{
	a->donec = chan_new(0, 0);
	a->send = send;
	a->cancel_thread = pthread_self();
	a->cancel_fiber = gofiber_id();
	atomic_init(&a->other_thread, false);
	atomic_init(&a->calls, 0);
	chan_ref(a->donec); /* for af_fn */
}

/* Whether donec fires within @patience (a bounded wait for an event). */
static bool af_fired(struct af *a, int64_t patience)
{
	return chan_recv_until(a->donec, NULL, NULL, chan_now() + patience) == 0;
}

TB_TEST(context_go, after_func_called_after_cancel, .timeout = 20)
{
	for (int i = 0; i < 50; i++) {
		ctx_t *ctx = ctx_with_cancel(ctx_background());
		struct af a;
		af_init(&a, false);
		ctx_after_t *stop = ctx_after_func(ctx, af_fn, &a);
		cr_assert_not_null(stop);
		cr_assert_not(af_fired(&a, i == 0 ? SHORT : 0),
			      "AfterFunc called before context is done");
		ctx_cancel(ctx);
		cr_assert(af_fired(&a, QUIESCENT),
			  "AfterFunc not called after context is canceled");
		cr_assert(atomic_load(&a.other_thread), "AfterFunc ran on the cancelling thread");
		cr_assert_not(ctx_after_stop(stop), "stop() = true, want false");
		ctx_after_release(stop);
		ctx_cancel_release(ctx);
		cr_assert(wait_no_live(QUIESCENT), "AfterFunc thread never finished");
		chan_unref(a.donec);
	}
}

TB_TEST(context_go, after_func_called_after_timeout, .timeout = 20)
{
	ctx_t *ctx = ctx_with_timeout(ctx_background(), SHORT);
	struct af a;
	af_init(&a, false);
	ctx_after_t *stop = ctx_after_func(ctx, af_fn, &a);
	ctx_after_release(stop); /* releasing the handle does not stop f */
	cr_assert(af_fired(&a, QUIESCENT), "AfterFunc not called after context is canceled");
	ctx_cancel_release(ctx);
	cr_assert(wait_no_live(QUIESCENT), "AfterFunc thread never finished");
	chan_unref(a.donec);
}

TB_TEST(context_go, after_func_called_immediately, .timeout = 20)
{
	ctx_t *ctx = ctx_with_cancel(ctx_background());
	ctx_cancel(ctx);
	struct af a;
	af_init(&a, false);
	ctx_after_t *stop = ctx_after_func(ctx, af_fn, &a);
	cr_assert(af_fired(&a, QUIESCENT), "AfterFunc not called for already-canceled context");
	cr_assert_not(ctx_after_stop(stop));
	ctx_after_release(stop);
	ctx_cancel_release(ctx);
	cr_assert(wait_no_live(QUIESCENT), "AfterFunc thread never finished");
	chan_unref(a.donec);
}

TB_TEST(context_go, after_func_not_called_after_stop, .timeout = 20)
{
	ctx_t *ctx = ctx_with_cancel(ctx_background());
	struct af a;
	af_init(&a, false);
	ctx_after_t *stop = ctx_after_func(ctx, af_fn, &a);
	cr_assert(ctx_after_stop(stop), "stop() = false, want true");
	ctx_cancel(ctx);
	cr_assert_not(af_fired(&a, 5 * SHORT), "AfterFunc called for already-canceled context");
	cr_assert_not(ctx_after_stop(stop), "stop() = true, want false");
	cr_assert_eq(atomic_load(&a.calls), 0);
	ctx_after_release(stop);
	ctx_cancel_release(ctx);
	chan_unref(a.donec);
	chan_unref(a.donec); /* af_fn's reference: it never ran */
}

/* Cancel does not wait for AfterFuncs to finish. */
TB_TEST(context_go, after_func_called_asynchronously, .timeout = 20)
{
	ctx_t *ctx = ctx_with_cancel(ctx_background());
	struct af a;
	af_init(&a, true);
	ctx_after_t *stop = ctx_after_func(ctx, af_fn, &a);
	ctx_cancel(ctx); /* would deadlock if it waited for af_fn's send */
	cr_assert(af_fired(&a, QUIESCENT), "AfterFunc not called after context is canceled");
	cr_assert_not(ctx_after_stop(stop));
	ctx_after_release(stop);
	ctx_cancel_release(ctx);
	cr_assert(wait_no_live(QUIESCENT), "AfterFunc thread never finished");
	chan_unref(a.donec);
}

/* Stop racing cancel: exactly one of "stop returned true" and "f ran". */
static void *plain_cancel_thread(void *arg)
{
	ctx_cancel(arg);
	return NULL;
}

Test(context_go, after_func_stop_races_cancel, .timeout = 60)
{
	int stopped = 0, ran = 0;
	for (int i = 0; i < 300; i++) {
		ctx_t *ctx = ctx_with_cancel(ctx_background());
		struct af a;
		af_init(&a, false);
		ctx_after_t *stop = ctx_after_func(ctx, af_fn, &a);
		tu_go_t th = tu_spawn_stack(plain_cancel_thread, ctx, 64 * 1024);
		bool s = ctx_after_stop(stop);
		tu_join(th);
		if (s) {
			stopped++;
			cr_assert_not(af_fired(&a, 0), "stop() = true but f ran");
			cr_assert_eq(atomic_load(&a.calls), 0);
			chan_unref(a.donec); /* af_fn's reference: it never runs */
		} else {
			ran++;
			cr_assert(af_fired(&a, QUIESCENT), "stop() = false but f never ran");
		}
		cr_assert_not(ctx_after_stop(stop), "second stop() = true");
		ctx_after_release(stop);
		ctx_cancel_release(ctx);
		cr_assert(wait_no_live(QUIESCENT), "AfterFunc thread never finished");
		chan_unref(a.donec);
	}
	cr_log_info("stop won %d times, f ran %d times", stopped, ran);
}

/* ---- afterfunc_test.go: registrations are removed ---------------------- */

TB_TEST(context_go, after_func_unregister_cancel, .timeout = 10)
{
	ctx_t *ctx0 = ctx_with_cancel(ctx_background());
	ctx_t *c1 = ctx_with_cancel(ctx0);
	ctx_t *c2 = ctx_with_cancel(ctx0);
	cr_assert_eq(ctx__nchildren(ctx0), 2);
	ctx_cancel(c1);
	ctx_cancel(c2);
	cr_assert_eq(ctx__nchildren(ctx0), 0);
	ctx_cancel_release(c2);
	ctx_cancel_release(c1);
	ctx_cancel_release(ctx0);
}

TB_TEST(context_go, after_func_unregister_timeout, .timeout = 10)
{
	ctx_t *ctx0 = ctx_with_cancel(ctx_background());
	ctx_t *c = ctx_with_timeout(ctx0, VERY_LONG);
	cr_assert_eq(ctx__nchildren(ctx0), 1);
	ctx_cancel(c);
	cr_assert_eq(ctx__nchildren(ctx0), 0);
	ctx_cancel_release(c);
	ctx_cancel_release(ctx0);
}

static void noop_fn(void *arg)
{
	(void)arg;
}

TB_TEST(context_go, after_func_unregister_after_func, .timeout = 10)
{
	ctx_t *ctx0 = ctx_with_cancel(ctx_background());
	ctx_after_t *stop = ctx_after_func(ctx0, noop_fn, NULL);
	cr_assert_eq(ctx__nchildren(ctx0), 1);
	cr_assert(ctx_after_stop(stop));
	cr_assert_eq(ctx__nchildren(ctx0), 0);
	ctx_after_release(stop);
	ctx_cancel_release(ctx0);
	cr_assert_eq(ctx__live(), 0);
}

/* Custom-context AfterFunc tests: cancelling ctx0 reaches a WithCancel child,
 * a WithTimeout child and an AfterFunc. */
TB_TEST(context_go, after_func_cancel_timeout_afterfunc, .timeout = 10)
{
	ctx_t *ctx0 = ctx_with_cancel(ctx_background());
	ctx_t *c1 = ctx_with_cancel(ctx0);
	ctx_t *c2 = ctx_with_timeout(ctx0, VERY_LONG);
	struct af a;
	af_init(&a, false);
	ctx_after_t *stop = ctx_after_func(ctx0, af_fn, &a);
	ctx_cancel(ctx0);
	cr_assert_eq(chan_recv(ctx_done(c1), NULL, NULL), 0);
	cr_assert_eq(chan_recv(ctx_done(c2), NULL, NULL), 0);
	cr_assert(af_fired(&a, QUIESCENT));
	ctx_after_release(stop);
	ctx_cancel_release(c2);
	ctx_cancel_release(c1);
	ctx_cancel_release(ctx0);
	cr_assert(wait_no_live(QUIESCENT), "AfterFunc thread never finished");
	chan_unref(a.donec);
}
