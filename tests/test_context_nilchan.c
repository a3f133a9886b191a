/*
 * tests/test_context_nilchan.c - ctx_send / ctx_recv / ctx_select with NULL
 * channels (include/gochan/context.h): Go's
 *     select { case v := <-nilch: ...; case <-ctx.Done(): return ctx.Err() }
 * waits for the context, since a nil channel is never ready.  Here the same
 * call returns the context's error when it is cancelled or its deadline
 * passes (exactly at the deadline on a bubble's clock), and EDEADLK at once
 * under a context that can never be done (Go would block for ever).
 * Plain chan_send/chan_recv on NULL still return EINVAL.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/leakcheck.h"
#include "tests/test_bubble_util.h"
#include "testutil.h"

TB_SUITE(context_nilchan);

#define MS GOTIME_MILLISECOND
#define PATIENCE (10 * GOTIME_SECOND)

/* Contexts that are never done: a NULL channel there could wait for
 * nothing. */
TB_TEST(context_nilchan, never_done_edeadlk, .timeout = 5)
{
	ctx_t *bg = ctx_background();
	ctx_t *parent = ctx_with_cancel(bg);
	ctx_t *wc = ctx_without_cancel(parent);
	ctx_t *never[] = {bg, ctx_todo(), wc};
	int v = 1;
	bool ok = true;

	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
		ctx_t *c = never[i];
		cr_assert_eq(ctx_send(c, NULL, &v), EDEADLK);
		cr_assert_eq(ctx_recv(c, NULL, &v, &ok), EDEADLK);
		cr_assert_eq(ctx_select(c, (chan_case_t[]){CHAN_RECV(NULL, &v, &ok)}, 1), -EDEADLK);
		cr_assert_eq(ctx_select(c,
					(chan_case_t[]){CHAN_RECV(NULL, &v, NULL),
							CHAN_SEND(NULL, &v, NULL)},
					2),
			     -EDEADLK);
		cr_assert_eq(ctx_select(c, NULL, 0), -EDEADLK);
	}
	cr_assert_eq(v, 1);
	cr_assert(ok, "*ok written by a call that did nothing");
	/* A bad case is still reported as such first. */
	chan_case_t bad = CHAN_RECV(NULL, &v, NULL);
	bad.op = (enum chan_op)99;
	cr_assert_eq(ctx_select(bg, &bad, 1), -EINVAL);
	/* And the plain operations keep their EINVAL (chan.h). */
	cr_assert_eq(chan_send(NULL, &v), EINVAL);
	cr_assert_eq(chan_recv(NULL, &v, &ok), EINVAL);
	cr_assert_eq(ctx_send(NULL, NULL, &v), EINVAL);
	cr_assert_eq(ctx_recv(NULL, NULL, &v, &ok), EINVAL);
	ctx_release(wc);
	ctx_cancel_release(parent);
}

/* A context already done: its error at once, as for any channel. */
TB_TEST(context_nilchan, done_context_returns_its_error, .timeout = 5)
{
	ctx_t *c = ctx_with_cancel(ctx_background());
	int v = 1;

	cr_assert_eq(ctx_cancel(c), 0);
	cr_assert_eq(ctx_send(c, NULL, &v), CTX_CANCELED);
	cr_assert_eq(ctx_recv(c, NULL, &v, NULL), CTX_CANCELED);
	ctx_cancel_release(c);
}

/* Waits for the deadline, and returns exactly there on a bubble's clock. */
TB_TEST(context_nilchan, waits_for_deadline, .timeout = 10)
{
	int64_t t0 = chan_now();
	ctx_t *c = ctx_with_timeout(ctx_background(), 2 * MS);
	int v = 1;
	bool ok = true;

	cr_assert_eq(ctx_recv(c, NULL, &v, &ok), CTX_DEADLINE_EXCEEDED);
	int64_t t1 = chan_now();
	cr_assert_geq(t1, t0 + 2 * MS, "returned before the deadline");
	TB_EXACT(t1, t0 + 2 * MS);
	cr_assert_eq(ctx_err(c), CTX_DEADLINE_EXCEEDED);
	cr_assert_eq(ctx_send(c, NULL, &v), CTX_DEADLINE_EXCEEDED);
	cr_assert(ok && v == 1, "untouched");
	ctx_cancel_release(c);

	/* ctx_select with only nil cases, for comparison: the same. */
	c = ctx_with_timeout(ctx_background(), MS);
	cr_assert_eq(ctx_select(c, (chan_case_t[]){CHAN_SEND(NULL, &v, NULL)}, 1),
		     -CTX_DEADLINE_EXCEEDED);
	ctx_cancel_release(c);
}

/* The cancel that fires it: from an AfterFunc (a thread; a fiber of the
 * bubble), which owns a reference to the context. */
static void cancel_fn(void *p)
{
	ctx_cancel_release(p);
}

TB_TEST(context_nilchan, waits_for_cancel, .timeout = 10)
{
	ctx_t *c = ctx_with_cancel(ctx_background());
	int v = 1;

	for (int send = 0; send < 2; send++) {
		ctx_t *child = ctx_with_cancel(c);
		cr_assert_eq(gotime_after_func_detached(MS, cancel_fn, ctx_ref(child)), 0);
		int r = send ? ctx_send(child, NULL, &v) : ctx_recv(child, NULL, &v, NULL);
		cr_assert_eq(r, CTX_CANCELED);
		ctx_cancel_release(child);
	}
	cr_assert_eq(ctx_err(c), 0, "the parent was not cancelled");
	ctx_cancel_release(c);
}
