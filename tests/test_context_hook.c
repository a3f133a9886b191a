/*
 * tests/test_context_hook.c - the contract of context/ctx_hook.h, which
 * poll/'s hangup context relies on: hook->cancel runs before the cancel
 * that marked the context returns (its own, an ancestor's, or the
 * constructor's when the parent is already done) and again from every
 * ctx_cancel of the context itself; hook->destroy runs exactly once, at
 * the last release, cancelled or not, and nothing runs after it.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>

#include <gochan/context.h>

#include "context/ctx_hook.h"
#include "context/ctx_internal.h"
#include "tests/leakcheck.h"
#include "tests/testutil.h"

TU_LEAK_CHECKED_SUITE(context_hook);

struct rec {
	atomic_int cancels;
	atomic_int destroys;
	atomic_int cancels_after_destroy;
	ctx_t *self; /* the context, to check it is done when cancel runs */
	atomic_int not_done_in_cancel;
};

static void rec_cancel(void *arg)
{
	struct rec *r = arg;
	if (atomic_load(&r->destroys))
		atomic_fetch_add(&r->cancels_after_destroy, 1);
	if (r->self && ctx_err(r->self) == 0)
		atomic_fetch_add(&r->not_done_in_cancel, 1);
	atomic_fetch_add(&r->cancels, 1);
}

static void rec_destroy(void *arg)
{
	struct rec *r = arg;
	atomic_fetch_add(&r->destroys, 1);
}

static const struct ctx_hook rec_hook = {.cancel = rec_cancel, .destroy = rec_destroy};

Test(context_hook, own_cancel_then_release, .timeout = 10)
{
	struct rec r = {0};
	ctx_t *c = ctx__with_hook(ctx_background(), &rec_hook, &r);
	cr_assert_not_null(c);
	r.self = c;
	cr_assert_eq(atomic_load(&r.cancels), 0);
	cr_assert_eq(ctx_cancel(c), 0);
	cr_assert_geq(atomic_load(&r.cancels), 1,
		      "hook->cancel did not run before ctx_cancel returned");
	int n = atomic_load(&r.cancels);
	cr_assert_eq(ctx_cancel(c), 0);
	cr_assert_eq(atomic_load(&r.cancels), n + 1, "a later ctx_cancel must call it again");
	cr_assert_eq(atomic_load(&r.destroys), 0);
	ctx_release(c);
	cr_assert_eq(atomic_load(&r.destroys), 1);
	cr_assert_eq(atomic_load(&r.not_done_in_cancel), 0,
		     "cancel ran before the context was done");
	cr_assert_eq(ctx__live(), 0);
}

Test(context_hook, release_without_cancel, .timeout = 10)
{
	struct rec r = {0};
	ctx_t *c = ctx__with_hook(ctx_background(), &rec_hook, &r);
	ctx_t *extra = ctx_ref(c);
	ctx_release(c);
	cr_assert_eq(atomic_load(&r.destroys), 0, "destroyed with a reference left");
	ctx_release(extra);
	cr_assert_eq(atomic_load(&r.destroys), 1);
	cr_assert_eq(atomic_load(&r.cancels), 0, "never cancelled: no cancel hook");
}

Test(context_hook, parent_cancel_runs_it_before_returning, .timeout = 10)
{
	struct rec r = {0};
	ctx_t *p = ctx_with_cancel(ctx_background());
	ctx_t *v = ctx_with_value(p, &r, NULL);
	ctx_t *c = ctx__with_hook(v, &rec_hook, &r);
	r.self = c;
	cr_assert_eq(ctx_cancel_cause(p, 9, NULL), 0);
	cr_assert_eq(atomic_load(&r.cancels), 1);
	cr_assert_eq(ctx_cause(c, NULL), 9);
	/* The parent no longer holds it; our reference does. */
	ctx_cancel_release(c);
	cr_assert_eq(atomic_load(&r.destroys), 1);
	cr_assert_eq(atomic_load(&r.not_done_in_cancel), 0);
	ctx_release(v);
	ctx_cancel_release(p);
	cr_assert_eq(ctx__live(), 0);
}

Test(context_hook, parent_already_done, .timeout = 10)
{
	struct rec r = {0};
	ctx_t *p = ctx_with_cancel(ctx_background());
	ctx_cancel(p);
	ctx_t *c = ctx__with_hook(p, &rec_hook, &r);
	cr_assert_not_null(c);
	cr_assert_eq(atomic_load(&r.cancels), 1, "the constructor's cancel runs the hook");
	cr_assert_eq(ctx_err(c), CTX_CANCELED);
	ctx_cancel_release(c);
	ctx_cancel_release(p);
	cr_assert_eq(atomic_load(&r.destroys), 1);
}

Test(context_hook, bad_arguments, .timeout = 10)
{
	struct rec r = {0};
	cr_assert_null(ctx__with_hook(NULL, &rec_hook, &r));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(ctx__with_hook(ctx_background(), NULL, &r));
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(atomic_load(&r.destroys), 0, "no hook runs on failure");
}

/* Two threads cancel the same hooked context while a third cancels its
 * parent: every ctx_cancel on the context returns after at least one hook
 * call, and destroy comes last, once. */
struct race {
	ctx_t *c, *p;
	struct rec *r;
	tu_barrier_t *b;
	int own;  /* 1: cancel c, 0: cancel p */
	int seen; /* out: hook calls seen when our cancel returned */
};

static void *racer(void *arg)
{
	struct race *a = arg;
	tu_barrier_wait(a->b);
	ctx_cancel(a->own ? a->c : a->p);
	a->seen = atomic_load(&a->r->cancels);
	return NULL;
}

Test(context_hook, concurrent_cancels, .timeout = 30)
{
	for (int i = 0; i < 300; i++) {
		struct rec r = {0};
		tu_barrier_t b;
		tu_barrier_init(&b, 3);
		ctx_t *p = ctx_with_cancel(ctx_background());
		ctx_t *c = ctx__with_hook(p, &rec_hook, &r);
		r.self = c;
		struct race a[3];
		tu_go_t th[3];
		for (int k = 0; k < 3; k++) {
			a[k] = (struct race){.c = c, .p = p, .r = &r, .b = &b, .own = k < 2};
			th[k] = tu_spawn(racer, &a[k]);
		}
		for (int k = 0; k < 3; k++)
			tu_join(th[k]);
		for (int k = 0; k < 2; k++)
			cr_assert_geq(a[k].seen, 1, "round %d: ctx_cancel returned before any hook",
				      i);
		cr_assert_geq(atomic_load(&r.cancels), 1);
		cr_assert_eq(atomic_load(&r.not_done_in_cancel), 0);
		ctx_release(c);
		ctx_cancel_release(p);
		cr_assert_eq(atomic_load(&r.destroys), 1);
		cr_assert_eq(atomic_load(&r.cancels_after_destroy), 0);
		tu_barrier_destroy(&b);
	}
	cr_assert_eq(ctx__live(), 0);
}
