/*
 * tests/test_xb_select_macro.c - crossbeam-channel's tests/select_macro.rs
 * (the select! macro) ported to CHAN_SELECT, gochan's select statement
 * (include/gochan/select.h): `switch (CHAN_SELECT(deadline, cases...))`.
 *
 * Mapping: recv(r) -> v => body       case i: (CHAN_RECV(r, &v, &ok))
 *          send(s, x) -> res => body  case i: (CHAN_SEND(s, &x, &ok); ok false:
 *                                     Err(SendError), the channel is closed)
 *          default => body            CHAN_NOWAIT and case CHAN_DEFAULT:
 *          default(d) => body         chan_now() + d and case CHAN_TIMEOUT:
 *          never() / None             a NULL channel
 *          unbounded()                a buffered channel with room enough
 *          drop(s) / drop(r)          chan_close (as in test_xb_array.c)
 * A one-case CHAN_SELECT with CHAN_NOWAIT takes the inline path
 * (chan_select_try_recv / chan_select_try_send), so the single-operation
 * tests below (try_recv ... disconnect_wakes_receiver) cover it as well as
 * chan_select itself.  Sleeps that order events became events and waits
 * until a goroutine is parked.
 *
 * Ported here (24): default_syntax, references, case_blocks,
 * same_variable_name, handles_on_heap, once_blocks, once_receiver,
 * once_sender, parse_nesting, evaluate, result_types, infer_types,
 * move_handles, fairness_recv, fairness_send, try_recv, recv, recv_timeout,
 * try_send, send, send_timeout, disconnect_wakes_sender,
 * disconnect_wakes_receiver, deref.
 * Shared with select.rs (29), ported once in tests/test_xb_select.c, whose
 * selects are CHAN_SELECT statements too: smoke1, smoke2, disconnected,
 * default, timeout, default_when_disconnected, default_only, unblocks,
 * both_ready, loop_try, cloning1, cloning2, preflight1, preflight2,
 * preflight3, duplicate_operations, nesting, stress_recv, stress_send,
 * stress_mixed, stress_timeout_two_threads, send_recv_same_channel,
 * matching, matching_with_leftover, channel_through_channel,
 * linearizable_default (select.rs's linearizable_try), linearizable_timeout,
 * fairness1, fairness2.
 * Skipped (6): panic_sender, panic_receiver (a panic while evaluating a
 * case: C has none); unfairness, unfairness_timeout, unfairness_try
 * (select_biased!: Go and gochan have no biased select, every ready case is
 * chosen uniformly); trailing_comma (Rust macro syntax only).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_select_macro);

#define ROOM 1024

static chan_t *unbounded(void)
{
	return chan_new(sizeof(int), ROOM);
}

Test(xb_select_macro, default_syntax)
{
	chan_t *c = chan_new(sizeof(int), 0);
	int v = 0;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &v, NULL)), CHAN_DEFAULT);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(c, &v, NULL)), CHAN_DEFAULT);
	cr_assert_eq(chan_select(NULL, 0, CHAN_NOWAIT), CHAN_DEFAULT); /* default only */
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_select_macro, references)
{
	chan_t *c = unbounded(), **p = &c, ***pp = &p; /* &&&&s */
	int v = 0, zero = 0;
	int k = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(c, &zero, NULL), CHAN_RECV(c, &v, NULL));
	cr_assert(k == 0 || k == 1);
	k = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(**pp, &zero, NULL), CHAN_RECV(**pp, &v, NULL));
	cr_assert(k == 0 || k == 1);
	chan_t *never = NULL;
	/* recv(Some(&r).unwrap_or(&never())): whatever is buffered is taken. */
	k = CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c ? c : never, &v, NULL));
	cr_assert(k == 0 || k == CHAN_DEFAULT);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(never, &v, NULL)), CHAN_DEFAULT);
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_select_macro, case_blocks)
{
	chan_t *c = unbounded();
	int v;
	bool ok;
	double x = 0;
	switch (CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &v, NULL), CHAN_RECV(c, &v, NULL),
			    CHAN_RECV(c, &v, NULL))) {
	case 0:
		x = 3.0;
		break;
	case 1:
		for (;;)
			cr_assert_fail();
	case 2:
		switch (7 + 3) {
		default:
			cr_assert_fail();
		}
		break;
	case CHAN_DEFAULT:
		x = 7.0;
		break;
	default:
		cr_assert_fail();
	}
	cr_assert_eq(x, 7.0);
	switch (CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &v, &ok))) {
	case 0:
		if (ok)
			cr_assert_fail();
		break;
	case CHAN_DEFAULT:
		break;
	}
	cr_assert_eq(chan_close(c), 0); /* drop(s) */
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_select_macro, same_variable_name)
{
	chan_t *r = unbounded();
	cr_assert_eq(chan_close(r), 0); /* let (_, r) */
	bool ok = true;
	int v;
	switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r, &v, &ok))) {
	case 0: {
		bool r = ok; /* recv(r) -> r: the result shadows the channel */
		cr_assert_not(r);
		break;
	}
	default:
		cr_assert_fail();
	}
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_select_macro, handles_on_heap)
{
	chan_t **s = malloc(sizeof *s), **r = malloc(sizeof *r);
	*s = *r = unbounded();
	int v = 0, zero = 0;
	int k = CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(*s, &zero, NULL), CHAN_RECV(*r, &v, NULL));
	cr_assert_eq(k, 0); /* only the send is ready */
	cr_assert_eq(chan_unref(*s), 0);
	free(s);
	free(r);
}

/* Each case body runs at most once, and exactly one of them runs. */
Test(xb_select_macro, once_blocks)
{
	chan_t *c = unbounded();
	int v = 0, zero = 0, runs = 0;
	switch (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(c, &zero, NULL))) {
	case 0:
		runs++;
		break;
	}
	switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, &v, NULL))) {
	case 0:
		runs++;
		break;
	}
	switch (CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(c, &zero, NULL))) {
	case 0:
	case CHAN_DEFAULT:
		runs++;
		break;
	}
	switch (CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &v, NULL))) {
	case 0:
	case CHAN_DEFAULT:
		runs++;
		break;
	}
	switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, &v, NULL), CHAN_SEND(c, &zero, NULL))) {
	case 0:
	case 1:
		runs++;
		break;
	}
	cr_assert_eq(runs, 5);
	cr_assert_eq(chan_unref(c), 0);
}

/* once_receiver / once_sender: a case's channel expression is evaluated
 * once (Go evaluates every channel operand exactly once, on entry). */
static int evaluations;
static chan_t *get(chan_t *c)
{
	evaluations++;
	return c;
}
Test(xb_select_macro, once_receiver)
{
	chan_t *r = unbounded();
	cr_assert_eq(chan_close(r), 0); /* let (_, r) */
	bool ok = true;
	evaluations = 0;
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(get(r), NULL, &ok)), 0);
	cr_assert_not(ok);
	cr_assert_eq(evaluations, 1);
	cr_assert_eq(chan_unref(r), 0);
}
Test(xb_select_macro, once_sender)
{
	chan_t *s = unbounded(); /* let (s, _): the receiver is dropped later */
	int five = 5;
	bool ok = false;
	evaluations = 0;
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(get(s), &five, &ok)), 0);
	cr_assert(ok);
	cr_assert_eq(evaluations, 1);
	cr_assert_eq(chan_unref(s), 0);
}

Test(xb_select_macro, parse_nesting)
{
	chan_t *r = unbounded(); /* nothing is ever sent: the innermost default */
	int reached = 0;
	switch (CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r, NULL, NULL), CHAN_RECV(r, NULL, NULL))) {
	case CHAN_DEFAULT:
		switch (CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r, NULL, NULL),
				    CHAN_RECV(r, NULL, NULL))) {
		case CHAN_DEFAULT:
			switch (chan_select(NULL, 0, CHAN_NOWAIT)) {
			case CHAN_DEFAULT:
				reached = 1;
				break;
			}
			break;
		}
		break;
	}
	cr_assert_eq(reached, 1);
	cr_assert_eq(chan_unref(r), 0);
}

static const char *evaluate_once(chan_t *c, bool with_send)
{
	int v, zero = 0;
	int k = with_send ? CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &v, NULL),
					CHAN_SEND(c, &zero, NULL))
			  : CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &v, NULL));
	switch (k) {
	case 0:
		return "foo";
	case 1:
		return "bar";
	default:
		return "baz";
	}
}
Test(xb_select_macro, evaluate)
{
	chan_t *c = unbounded();
	cr_assert_str_eq(evaluate_once(c, true), "bar");
	cr_assert_str_eq(evaluate_once(c, false), "foo");
	cr_assert_str_eq(evaluate_once(c, false), "baz");
	cr_assert_eq(chan_unref(c), 0);
}

/* result_types: a receive reports (value, ok), a send ok; here against a
 * closed receiver side and a closed sender side (crossbeam's (s, _) and
 * (_, r)). */
Test(xb_select_macro, result_types)
{
	chan_t *s = chan_new(sizeof(int), 0), *r = chan_new(sizeof(int), 0);
	cr_assert_eq(chan_close(s), 0);
	cr_assert_eq(chan_close(r), 0);
	int v = -1, zero = 0;
	bool ok = true;
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r, &v, &ok)), 0);
	cr_assert(!ok && v == 0);
	ok = true;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r, &v, &ok)), 0);
	cr_assert_not(ok);
	ok = true;
	cr_assert_eq(CHAN_SELECT(chan_now(), CHAN_RECV(r, &v, &ok)), 0); /* default(0 ms) */
	cr_assert_not(ok);
	ok = true;
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s, &zero, &ok)), 0);
	cr_assert_not(ok);
	ok = true;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(s, &zero, &ok)), 0);
	cr_assert_not(ok);
	ok = true;
	cr_assert_eq(CHAN_SELECT(chan_now(), CHAN_SEND(s, &zero, &ok)), 0);
	cr_assert_not(ok);
	bool ok2 = true;
	ok = true;
	int k = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s, &zero, &ok), CHAN_RECV(r, &v, &ok2));
	cr_assert(k == 0 || k == 1);
	cr_assert_not(k == 0 ? ok : ok2);
	cr_assert_eq(chan_unref(s), 0);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_select_macro, infer_types)
{
	chan_t *c = chan_new(0, ROOM);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, NULL, NULL)), CHAN_DEFAULT);
	cr_assert_eq(chan_send(c, NULL), 0);
	cr_assert_eq(chan_unref(c), 0);
	c = chan_new(0, ROOM);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(c, (const void *)NULL, NULL)), 0);
	cr_assert_eq(chan_recv(c, NULL, NULL), 0);
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_select_macro, move_handles)
{
	chan_t *c = unbounded();
	int v = 0, zero = 0;
	int k = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(get(c), &v, NULL),
			    CHAN_SEND(get(c), &zero, NULL));
	cr_assert_eq(k, 1); /* empty: only the send can proceed */
	cr_assert_eq(chan_unref(c), 0);
}

/* deref: a wrapper that holds the channel (crossbeam: a Deref newtype). */
struct wrapped {
	chan_t *inner;
};
Test(xb_select_macro, deref)
{
	struct wrapped s = {chan_new(sizeof(int), 0)}, r = {s.inner};
	int v = 0, zero = 0;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(s.inner, &zero, NULL),
				 CHAN_RECV(r.inner, &v, NULL)),
		     CHAN_DEFAULT);
	cr_assert_eq(chan_unref(s.inner), 0);
}

#define FAIR_COUNT 10000
Test(xb_select_macro, fairness_recv, .timeout = 60)
{
	chan_t *r1 = chan_new(0, FAIR_COUNT), *r2 = chan_new(0, FAIR_COUNT);
	for (int i = 0; i < FAIR_COUNT; i++) {
		cr_assert_eq(chan_send(r1, NULL), 0);
		cr_assert_eq(chan_send(r2, NULL), 0);
	}
	int hits[2] = {0, 0};
	while (hits[0] + hits[1] < FAIR_COUNT) {
		int k = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r1, NULL, NULL),
				    CHAN_RECV(r2, NULL, NULL));
		cr_assert(k == 0 || k == 1);
		hits[k]++;
	}
	for (int k = 0; k < 2; k++)
		cr_assert_geq(hits[k], FAIR_COUNT / 4, "hits[%d] = %d", k, hits[k]);
	cr_assert_eq(chan_unref(r1), 0);
	cr_assert_eq(chan_unref(r2), 0);
}

Test(xb_select_macro, fairness_send, .timeout = 60)
{
	chan_t *s1 = chan_new(0, FAIR_COUNT), *s2 = chan_new(0, 2 * FAIR_COUNT);
	int hits[2] = {0, 0};
	for (int i = 0; i < FAIR_COUNT; i++) {
		int k = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s1, (const void *)NULL, NULL),
				    CHAN_SEND(s2, (const void *)NULL, NULL));
		cr_assert(k == 0 || k == 1);
		hits[k]++;
	}
	for (int k = 0; k < 2; k++)
		cr_assert_geq(hits[k], FAIR_COUNT / 4, "hits[%d] = %d", k, hits[k]);
	cr_assert_eq(chan_unref(s1), 0);
	cr_assert_eq(chan_unref(s2), 0);
}

/* ---- the single-operation tests, every operation a one-case select ---- */
struct duo {
	chan_t *c, *ev[2];
	tu_blocker_t blk[3];
};
static void duo_init(struct duo *d)
{
	d->c = chan_new(sizeof(int), 0);
	d->ev[0] = xb_event();
	d->ev[1] = xb_event();
	for (int i = 0; i < 3; i++)
		d->blk[i] = (tu_blocker_t)TU_BLOCKER_INIT;
}
static void duo_run(struct duo *d, void *(*a)(void *), void *(*b)(void *))
{
	tu_go_t ta = tu_spawn(a, d), tb = tu_spawn(b, d);
	tu_join(ta);
	tu_join(tb);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(d->ev[0]), 0);
	cr_assert_eq(chan_unref(d->ev[1]), 0);
	cr_assert_eq(chan_unref(d->c), 0);
}

/* A one-case select's outcome: the value, -999 if closed, or -1000 - k for
 * a select that returned k (default, timeout). */
static int sel_recv(chan_t *c, int64_t deadline)
{
	int v = -1;
	bool ok = false;
	int k = CHAN_SELECT(deadline, CHAN_RECV(c, &v, &ok));
	return k != 0 ? -1000 + k : ok ? v : -999;
}
/* 1 sent, 0 closed, -1000 - k otherwise. */
static int sel_send(chan_t *c, int v, int64_t deadline)
{
	bool ok = false;
	int k = CHAN_SELECT(deadline, CHAN_SEND(c, &v, &ok));
	return k != 0 ? -1000 + k : ok;
}
#define LONG (chan_now() + XB_PATIENCE)

static void *try_recv_r(void *p)
{
	struct duo *d = p;
	XB_CHECK(sel_recv(d->c, CHAN_NOWAIT) == -1000 + CHAN_DEFAULT);
	xb_set(d->ev[0]);
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS)); /* the sender waits */
	XB_CHECK(sel_recv(d->c, CHAN_NOWAIT) == 7);
	xb_wait(d->ev[1]); /* the sender has gone */
	XB_CHECK(sel_recv(d->c, CHAN_NOWAIT) == -999);
	return NULL;
}
static void *try_recv_s(void *p)
{
	struct duo *d = p;
	xb_wait(d->ev[0]);
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(sel_send(d->c, 7, CHAN_FOREVER) == 1);
	XB_CHECK(chan_close(d->c) == 0);
	xb_set(d->ev[1]);
	return NULL;
}
Test(xb_select_macro, try_recv, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, try_recv_r, try_recv_s);
}

static void *recv_r(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(sel_recv(d->c, CHAN_FOREVER) == 7);
	XB_CHECK(xb_wait_blocked(&d->blk[1], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(sel_recv(d->c, CHAN_FOREVER) == 8);
	XB_CHECK(xb_wait_blocked(&d->blk[2], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(sel_recv(d->c, CHAN_FOREVER) == 9);
	XB_CHECK(sel_recv(d->c, LONG) == -999);
	return NULL;
}
static void *recv_s(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(sel_send(d->c, 7, CHAN_FOREVER) == 1);
	tu_about_to_block(&d->blk[1]);
	XB_CHECK(sel_send(d->c, 8, CHAN_FOREVER) == 1);
	tu_about_to_block(&d->blk[2]);
	XB_CHECK(sel_send(d->c, 9, CHAN_FOREVER) == 1);
	XB_CHECK(chan_close(d->c) == 0); /* the sender's scope ends */
	return NULL;
}
Test(xb_select_macro, recv, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, recv_r, recv_s);
}

static void *recv_timeout_r(void *p)
{
	struct duo *d = p;
	int64_t t0 = chan_now();
	XB_CHECK(sel_recv(d->c, t0 + XB_MS) == -1000 + CHAN_TIMEOUT);
	XB_CHECK(chan_now() - t0 >= XB_MS);
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(sel_recv(d->c, LONG) == 7);
	XB_CHECK(sel_recv(d->c, LONG) == -999);
	return NULL;
}
static void *recv_timeout_s(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(sel_send(d->c, 7, CHAN_FOREVER) == 1);
	XB_CHECK(chan_close(d->c) == 0);
	return NULL;
}
Test(xb_select_macro, recv_timeout, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, recv_timeout_r, recv_timeout_s);
}

static void *try_send_s(void *p)
{
	struct duo *d = p;
	XB_CHECK(sel_send(d->c, 7, CHAN_NOWAIT) == -1000 + CHAN_DEFAULT);
	xb_set(d->ev[0]);
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS)); /* the receiver waits */
	XB_CHECK(sel_send(d->c, 8, CHAN_NOWAIT) == 1);
	xb_wait(d->ev[1]); /* the receiver has gone */
	XB_CHECK(sel_send(d->c, 8, CHAN_NOWAIT) == 0);
	return NULL;
}
static void *try_send_r(void *p)
{
	struct duo *d = p;
	xb_wait(d->ev[0]);
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(sel_recv(d->c, CHAN_FOREVER) == 8);
	XB_CHECK(chan_close(d->c) == 0); /* drop(r) */
	xb_set(d->ev[1]);
	return NULL;
}
Test(xb_select_macro, try_send, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, try_send_s, try_send_r);
}

static void *send_s(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(sel_send(d->c, 7, CHAN_FOREVER) == 1);
	XB_CHECK(sel_send(d->c, 8, CHAN_FOREVER) == 1);
	XB_CHECK(sel_send(d->c, 9, CHAN_FOREVER) == 1);
	return NULL;
}
static void *send_r(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(sel_recv(d->c, CHAN_FOREVER) == 7);
	XB_CHECK(sel_recv(d->c, CHAN_FOREVER) == 8);
	XB_CHECK(sel_recv(d->c, CHAN_FOREVER) == 9);
	return NULL;
}
Test(xb_select_macro, send, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, send_s, send_r);
}

static void *send_timeout_s(void *p)
{
	struct duo *d = p;
	int64_t t0 = chan_now();
	XB_CHECK(sel_send(d->c, 7, t0 + XB_MS) == -1000 + CHAN_TIMEOUT);
	XB_CHECK(chan_now() - t0 >= XB_MS);
	xb_set(d->ev[0]);
	XB_CHECK(sel_send(d->c, 8, LONG) == 1);
	XB_CHECK(sel_send(d->c, 9, LONG) == 0); /* Err(SendError(9)): closed */
	return NULL;
}
static void *send_timeout_r(void *p)
{
	struct duo *d = p;
	xb_wait(d->ev[0]);
	XB_CHECK(sel_recv(d->c, CHAN_FOREVER) == 8);
	XB_CHECK(chan_close(d->c) == 0); /* drop(r) */
	return NULL;
}
Test(xb_select_macro, send_timeout, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, send_timeout_s, send_timeout_r);
}

static void *wakes_sender(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(sel_send(d->c, 0, CHAN_FOREVER) == 0);
	return NULL;
}
static void *wakes_receiver(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(sel_recv(d->c, CHAN_FOREVER) == -999);
	return NULL;
}
static void *wakes_closer(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(chan_close(d->c) == 0);
	return NULL;
}
Test(xb_select_macro, disconnect_wakes_sender, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, wakes_sender, wakes_closer);
}
Test(xb_select_macro, disconnect_wakes_receiver, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, wakes_receiver, wakes_closer);
}
