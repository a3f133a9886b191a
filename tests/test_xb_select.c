/*
 * tests/test_xb_select.c - crossbeam-channel's tests/select.rs (the Select
 * struct) ported to chan_select (include/gochan/select.h).
 *
 * Mapping, Go's semantics where crossbeam's differ:
 *   Select::new(); sel.recv(&r); sel.send(&s)   a chan_case_t array
 *   sel.select() + oper.recv/send               chan_select(cs, n, CHAN_FOREVER):
 *                                               it picks AND performs the case
 *   sel.try_select()                            deadline CHAN_NOWAIT: CHAN_DEFAULT
 *   sel.select_timeout(d)                       deadline chan_now() + d: CHAN_TIMEOUT
 *   unbounded()                                 a buffered channel with room for
 *                                               everything the test sends
 *   drop(s) / drop(r) (disconnect)              chan_close; a receive case then
 *                                               fires with ok == false, and a send
 *                                               case fires with ok == false (Go
 *                                               would panic; gochan reports it)
 *   s.clone() / drop(clone)                     chan_ref / chan_unref: no close
 *   sel.clone()                                 a copy of the case array
 *   tick(0)                                     Go's Tick(0) is nil: a NULL case
 * Threads are goroutines (tu_spawn).  crossbeam's sleeps that order events
 * are replaced by events or by waiting until a goroutine is parked; its
 * timeouts that must expire are 1-50 ms and only bounded from below; its
 * timeouts that must NOT expire are XB_PATIENCE.
 *
 * Ported (33): smoke1, smoke2, disconnected, default, timeout,
 * default_when_disconnected, default_only, unblocks, both_ready, loop_try,
 * cloning1, cloning2, preflight1, preflight2, preflight3,
 * duplicate_operations, nesting, stress_recv, stress_send, stress_mixed,
 * stress_timeout_two_threads, send_recv_same_channel, matching,
 * matching_with_leftover, channel_through_channel, linearizable_try,
 * linearizable_timeout, fairness1, fairness2, sync_and_clone,
 * send_and_clone, reuse, issue_1096.
 * Skipped (6): uncompleted_select_unbounded, uncompleted_select_bounded,
 * uncompleted_select_zero, forget_select_unbounded, forget_select_bounded,
 * forget_select_zero: they test crossbeam's two-phase SelectedOperation
 * (select, then complete or drop the operation); chan_select performs the
 * chosen operation itself, so there is nothing to leave uncompleted.
 * fairness1's tick(0) case is Go's nil Tick(0): never chosen.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <stdlib.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_select);

#define ROOM 1024 /* "unbounded" */

static chan_t *unbounded(void)
{
	return chan_new(sizeof(int), ROOM);
}

static chan_t *bounded(size_t cap)
{
	return chan_new(sizeof(int), cap);
}

static void unref_all(chan_t **cs, int n)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(chan_unref(cs[i]), 0);
}

Test(xb_select, smoke1)
{
	chan_t *c[2] = {unbounded(), unbounded()};
	int v = 0;
	cr_assert_eq(xb_send_int(c[0], 1), 0);
	cr_assert_eq(
		CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c[0], &v, NULL), CHAN_RECV(c[1], &v, NULL)), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(xb_send_int(c[1], 2), 0);
	cr_assert_eq(
		CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c[0], &v, NULL), CHAN_RECV(c[1], &v, NULL)), 1);
	cr_assert_eq(v, 2);
	unref_all(c, 2);
}

Test(xb_select, smoke2)
{
	chan_t *c[5];
	for (int i = 0; i < 5; i++)
		c[i] = unbounded();
	int v = 0;
	cr_assert_eq(xb_send_int(c[4], 5), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c[0], &v, NULL), CHAN_RECV(c[1], &v, NULL),
				 CHAN_RECV(c[2], &v, NULL), CHAN_RECV(c[3], &v, NULL),
				 CHAN_RECV(c[4], &v, NULL)),
		     4);
	cr_assert_eq(v, 5);
	unref_all(c, 5);
}

/* ---- disconnected ---- */
struct dis {
	chan_t *c1, *c2, *ev;
	tu_blocker_t blk;
};
static void *dis_first(void *p)
{
	struct dis *d = p;
	XB_CHECK(chan_close(d->c1) == 0); /* drop(s1) */
	xb_wait(d->ev);                   /* crossbeam: sleep(500 ms) */
	XB_CHECK(xb_send_int(d->c2, 5) == 0);
	return NULL;
}
static void *dis_second(void *p)
{
	struct dis *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk, TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(chan_close(d->c2) == 0); /* drop(s2) */
	return NULL;
}
Test(xb_select, disconnected, .timeout = 60)
{
	struct dis d = {unbounded(), unbounded(), xb_event(), TU_BLOCKER_INIT};
	int v = 0;
	bool ok = true;
	tu_go_t t = tu_spawn(dis_first, &d);
	/* r1 is (or becomes) disconnected while r2 stays empty: r1 fires. */
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(d.c1, &v, &ok),
				 CHAN_RECV(d.c2, &v, &ok)),
		     0);
	cr_assert_not(ok);
	xb_set(d.ev);
	cr_assert_eq(xb_recv_int(d.c2), 5);
	tu_join(t);
	/* Again, with both senders' work done: still only r1 is ready. */
	ok = true;
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(d.c1, &v, &ok),
				 CHAN_RECV(d.c2, &v, &ok)),
		     0);
	cr_assert_not(ok);
	/* A select blocked on r2 alone is woken by its disconnection. */
	t = tu_spawn(dis_second, &d);
	tu_about_to_block(&d.blk);
	ok = true;
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(d.c2, &v, &ok)), 0);
	cr_assert_not(ok);
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(d.c1), 0);
	cr_assert_eq(chan_unref(d.c2), 0);
	cr_assert_eq(chan_unref(d.ev), 0);
}

Test(xb_select, default)
{
	chan_t *c1 = unbounded(), *c2 = unbounded();
	int v = 0;
	bool ok = true;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c1, &v, &ok), CHAN_RECV(c2, &v, &ok)),
		     CHAN_DEFAULT);
	cr_assert_eq(chan_close(c1), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c1, &v, &ok), CHAN_RECV(c2, &v, &ok)), 0);
	cr_assert_not(ok);
	cr_assert_eq(xb_send_int(c2, 2), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c2, &v, &ok)), 0);
	cr_assert(ok && v == 2);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c2, &v, &ok)), CHAN_DEFAULT);
	cr_assert_eq(chan_select(NULL, 0, CHAN_NOWAIT), CHAN_DEFAULT);
	cr_assert_eq(chan_unref(c1), 0);
	cr_assert_eq(chan_unref(c2), 0);
}

/* ---- timeout ---- */
struct tmo {
	chan_t *c, *ev;
};
static void *tmo_sender(void *p)
{
	struct tmo *t = p;
	xb_wait(t->ev); /* the first select timed out */
	XB_CHECK(xb_send_int(t->c, 2) == 0);
	return NULL;
}
static void *tmo_dropper(void *p)
{
	struct tmo *t = p;
	XB_CHECK(chan_close(t->c) == 0);
	xb_set(t->ev);
	return NULL;
}
Test(xb_select, timeout, .timeout = 60)
{
	chan_t *c1 = unbounded();
	struct tmo t = {unbounded(), xb_event()};
	int v = 0;
	bool ok = false;
	tu_go_t g = tu_spawn(tmo_sender, &t);
	int64_t t0 = chan_now();
	cr_assert_eq(CHAN_SELECT(t0 + 10 * XB_MS, CHAN_RECV(c1, &v, &ok), CHAN_RECV(t.c, &v, &ok)),
		     CHAN_TIMEOUT);
	cr_assert_geq(chan_now() - t0, 10 * XB_MS);
	xb_set(t.ev);
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(c1, &v, &ok),
				 CHAN_RECV(t.c, &v, &ok)),
		     1);
	cr_assert(ok && v == 2);
	tu_join(g);
	cr_assert_eq(chan_unref(t.c), 0);
	cr_assert_eq(chan_unref(t.ev), 0);

	/* An empty select times out; then the channel dropped meanwhile is
	 * ready as disconnected. */
	t = (struct tmo){unbounded(), xb_event()};
	g = tu_spawn(tmo_dropper, &t);
	cr_assert_eq(chan_select(NULL, 0, chan_now() + 10 * XB_MS), CHAN_TIMEOUT);
	tu_join(g);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(t.c, &v, &ok)), 0);
	cr_assert_not(ok);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(t.c), 0);
	cr_assert_eq(chan_unref(t.ev), 0);
	cr_assert_eq(chan_unref(c1), 0);
}

Test(xb_select, default_when_disconnected)
{
	int v = 0;
	bool ok = true;
	chan_t *r = unbounded();
	cr_assert_eq(chan_close(r), 0); /* let (_, r): the sender is gone */
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r, &v, &ok)), 0);
	cr_assert_not(ok);
	ok = true;
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(r, &v, &ok)), 0);
	cr_assert_not(ok);
	cr_assert_eq(chan_unref(r), 0);

	chan_t *s = bounded(0);
	cr_assert_eq(chan_close(s), 0); /* let (s, _): the receiver is gone */
	v = 0;
	ok = true;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(s, &v, &ok)), 0);
	cr_assert_not(ok); /* not sent: Go would panic */
	ok = true;
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_SEND(s, &v, &ok)), 0);
	cr_assert_not(ok);
	cr_assert_eq(chan_unref(s), 0);
}

Test(xb_select, default_only, .timeout = 30)
{
	cr_assert_eq(chan_select(NULL, 0, CHAN_NOWAIT), CHAN_DEFAULT);
	int64_t start = chan_now();
	cr_assert_eq(chan_select(NULL, 0, start + 50 * XB_MS), CHAN_TIMEOUT);
	cr_assert_geq(chan_now() - start, 50 * XB_MS);
}

/* ---- unblocks: a parked select is woken by a sender / by a receiver ---- */
struct ub {
	chan_t *c1, *c2;
	tu_blocker_t blk[2];
};
static void *ub_sender(void *p)
{
	struct ub *u = p;
	XB_CHECK(xb_wait_blocked(&u->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_send_int(u->c2, 2) == 0);
	return NULL;
}
static void *ub_receiver(void *p)
{
	struct ub *u = p;
	XB_CHECK(xb_wait_blocked(&u->blk[1], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_recv_int(u->c1) == 1);
	return NULL;
}
Test(xb_select, unblocks, .timeout = 60)
{
	struct ub u = {bounded(0), bounded(0), {TU_BLOCKER_INIT, TU_BLOCKER_INIT}};
	int v = 0, one = 1, two = 2;
	tu_go_t t = tu_spawn(ub_sender, &u);
	tu_about_to_block(&u.blk[0]);
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(u.c1, &v, NULL),
				 CHAN_RECV(u.c2, &v, NULL)),
		     1);
	cr_assert_eq(v, 2);
	tu_join(t);
	t = tu_spawn(ub_receiver, &u);
	tu_about_to_block(&u.blk[1]);
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_SEND(u.c1, &one, NULL),
				 CHAN_SEND(u.c2, &two, NULL)),
		     0);
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(u.c1), 0);
	cr_assert_eq(chan_unref(u.c2), 0);
}

/* ---- both_ready ---- */
static void *both_peer(void *p)
{
	struct ub *u = p;
	XB_CHECK(xb_wait_blocked(&u->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_send_int(u->c1, 1) == 0);
	XB_CHECK(xb_recv_int(u->c2) == 2);
	return NULL;
}
Test(xb_select, both_ready, .timeout = 60)
{
	struct ub u = {bounded(0), bounded(0), {TU_BLOCKER_INIT, TU_BLOCKER_INIT}};
	tu_go_t t = tu_spawn(both_peer, &u);
	int got = 0, sent = 0;
	for (int i = 0; i < 2; i++) {
		int v = 0, two = 2;
		if (i == 0)
			tu_about_to_block(&u.blk[0]);
		int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(u.c1, &v, NULL),
				    CHAN_SEND(u.c2, &two, NULL));
		cr_assert(k == 0 || k == 1);
		if (k == 0) {
			cr_assert_eq(v, 1);
			got++;
		} else {
			sent++;
		}
	}
	cr_assert_eq(got, 1);
	cr_assert_eq(sent, 1);
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(u.c1), 0);
	cr_assert_eq(chan_unref(u.c2), 0);
}

/* ---- loop_try: non-blocking selects in loops meet a blocking one ---- */
struct lt {
	chan_t *c1, *c2, *end;
};
static void *lt_a(void *p)
{
	struct lt *l = p;
	int one = 1;
	for (;;) {
		bool ok;
		if (CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(l->c1, &one, &ok)) == 0)
			break;
		if (CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(l->end, NULL, &ok)) == 0)
			break;
		tu_yield();
	}
	return NULL;
}
static void *lt_b(void *p)
{
	struct lt *l = p;
	for (;;) {
		int x = 0;
		bool ok;
		if (chan_try_recv(l->c2, &x, NULL) == 0) {
			XB_CHECK(x == 2);
			break;
		}
		if (CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(l->end, NULL, &ok)) == 0)
			break;
		tu_yield();
	}
	return NULL;
}
static void *lt_c(void *p)
{
	struct lt *l = p;
	int v = 0, two = 2;
	int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(l->c1, &v, NULL),
			    CHAN_SEND(l->c2, &two, NULL));
	XB_CHECK(k == 1 || (k == 0 && v == 1));
	XB_CHECK(chan_close(l->end) == 0); /* drop(s_end) */
	return NULL;
}
Test(xb_select, loop_try, .timeout = 120)
{
	for (int run = 0; run < 20; run++) {
		struct lt l = {bounded(0), bounded(0), chan_new(0, 0)};
		tu_go_t a = tu_spawn(lt_a, &l), b = tu_spawn(lt_b, &l), c = tu_spawn(lt_c, &l);
		tu_join(a);
		tu_join(b);
		tu_join(c);
		cr_assert_eq(chan_unref(l.c1), 0);
		cr_assert_eq(chan_unref(l.c2), 0);
		cr_assert_eq(chan_unref(l.end), 0);
	}
	XB_ASSERT_OK();
}

/* ---- cloning: a clone dropped is not a disconnection ---- */
struct cl {
	chan_t *c1, *c3;
	tu_blocker_t blk;
};
static void *cloning1_peer(void *p)
{
	struct cl *c = p;
	XB_CHECK(chan_recv(c->c3, NULL, NULL) == 0);
	XB_CHECK(chan_unref(chan_ref(c->c1)) == 0); /* drop(s1.clone()) */
	XB_CHECK(chan_try_recv(c->c3, NULL, NULL) == EAGAIN);
	XB_CHECK(xb_send_int(c->c1, 1) == 0);
	XB_CHECK(chan_recv(c->c3, NULL, NULL) == 0);
	return NULL;
}
Test(xb_select, cloning1, .timeout = 60)
{
	struct cl c = {unbounded(), chan_new(0, ROOM), TU_BLOCKER_INIT};
	chan_t *c2 = unbounded();
	tu_go_t t = tu_spawn(cloning1_peer, &c);
	cr_assert_eq(chan_send(c.c3, NULL), 0);
	int v = 0;
	bool ok = false;
	int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(c.c1, &v, &ok),
			    CHAN_RECV(c2, &v, &ok));
	cr_assert_eq(k, 0);
	cr_assert(ok && v == 1);
	cr_assert_eq(chan_send(c.c3, NULL), 0);
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(c.c1), 0);
	cr_assert_eq(chan_unref(c2), 0);
	cr_assert_eq(chan_unref(c.c3), 0);
}

static void *cloning2_sel(void *p)
{
	struct cl *c = p; /* c1: r1, c3: r2 */
	bool ok = false;
	tu_about_to_block(&c->blk);
	int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(c->c1, NULL, &ok),
			    CHAN_RECV(c->c3, NULL, &ok));
	XB_CHECK(k == 1 && ok);
	return NULL;
}
Test(xb_select, cloning2, .timeout = 60)
{
	struct cl c = {chan_new(0, ROOM), chan_new(0, ROOM), TU_BLOCKER_INIT};
	tu_go_t t = tu_spawn(cloning2_sel, &c);
	cr_assert(xb_wait_blocked(&c.blk, TU_BLOCK_TIMEOUT_NS));
	cr_assert_eq(chan_unref(chan_ref(c.c1)), 0); /* drop(s1.clone()): no wake-up */
	cr_assert_eq(chan_send(c.c3, NULL), 0);
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(c.c1), 0);
	cr_assert_eq(chan_unref(c.c3), 0);
}

Test(xb_select, preflight1)
{
	chan_t *c = chan_new(0, ROOM);
	cr_assert_eq(chan_send(c, NULL), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, NULL, NULL)), 0);
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_select, preflight2)
{
	chan_t *c = chan_new(0, ROOM);
	bool ok = false;
	cr_assert_eq(chan_unref(chan_ref(c)), 0);
	cr_assert_eq(chan_send(c, NULL), 0);
	cr_assert_eq(chan_close(c), 0); /* drop(s) */
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, NULL, &ok)), 0);
	cr_assert(ok);
	cr_assert_eq(chan_try_recv(c, NULL, &ok), 0);
	cr_assert_not(ok); /* Disconnected */
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_select, preflight3)
{
	chan_t *c = chan_new(0, ROOM);
	bool ok = false;
	cr_assert_eq(chan_unref(chan_ref(c)), 0);
	cr_assert_eq(chan_send(c, NULL), 0);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_recv(c, NULL, &ok), 0);
	cr_assert(ok);
	ok = true;
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, NULL, &ok)), 0);
	cr_assert_not(ok);
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_select, duplicate_operations, .timeout = 30)
{
	chan_t *c = unbounded();
	bool hit[4] = {false};
	int zero = 0;
	while (!(hit[0] && hit[1] && hit[2] && hit[3])) {
		int v;
		bool ok = false;
		int k = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, &v, &ok), CHAN_RECV(c, &v, &ok),
				    CHAN_SEND(c, &zero, &ok), CHAN_SEND(c, &zero, &ok));
		cr_assert(k >= 0 && k < 4);
		cr_assert(ok);
		hit[k] = true;
	}
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_select, nesting)
{
	chan_t *c = unbounded();
	int v = -1, zero = 0, one = 1;
	switch (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(c, &zero, NULL))) {
	case 0:
		switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, &v, NULL))) {
		case 0:
			cr_assert_eq(v, 0);
			switch (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(c, &one, NULL))) {
			case 0:
				switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, &v, NULL))) {
				case 0:
					cr_assert_eq(v, 1);
					break;
				default:
					cr_assert_fail();
				}
				break;
			default:
				cr_assert_fail();
			}
			break;
		default:
			cr_assert_fail();
		}
		break;
	default:
		cr_assert_fail();
	}
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- stress_recv / stress_send / stress_mixed ---- */
#define STRESS_COUNT 10000
struct st {
	chan_t *c1, *c2, *c3;
};
static void *stress_recv_peer(void *p)
{
	struct st *s = p;
	for (int i = 0; i < STRESS_COUNT; i++) {
		XB_CHECK(xb_send_int(s->c1, i) == 0);
		XB_CHECK(chan_recv(s->c3, NULL, NULL) == 0);
		XB_CHECK(xb_send_int(s->c2, i) == 0);
		XB_CHECK(chan_recv(s->c3, NULL, NULL) == 0);
	}
	return NULL;
}
Test(xb_select, stress_recv, .timeout = 240)
{
	struct st s = {chan_new(sizeof(int), STRESS_COUNT), bounded(5), chan_new(0, 100)};
	tu_go_t t = tu_spawn(stress_recv_peer, &s);
	for (int i = 0; i < STRESS_COUNT; i++)
		for (int j = 0; j < 2; j++) {
			int v = -1;
			int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(s.c1, &v, NULL),
					    CHAN_RECV(s.c2, &v, NULL));
			cr_assert((k == 0 || k == 1) && v == i, "k %d v %d i %d", k, v, i);
			cr_assert_eq(chan_send(s.c3, NULL), 0);
		}
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(s.c1), 0);
	cr_assert_eq(chan_unref(s.c2), 0);
	cr_assert_eq(chan_unref(s.c3), 0);
}

static void *stress_send_peer(void *p)
{
	struct st *s = p;
	for (int i = 0; i < STRESS_COUNT; i++) {
		XB_CHECK(xb_recv_int(s->c1) == i);
		XB_CHECK(xb_recv_int(s->c2) == i);
		XB_CHECK(chan_recv(s->c3, NULL, NULL) == 0);
	}
	return NULL;
}
Test(xb_select, stress_send, .timeout = 240)
{
	struct st s = {bounded(0), bounded(0), chan_new(0, 100)};
	tu_go_t t = tu_spawn(stress_send_peer, &s);
	for (int i = 0; i < STRESS_COUNT; i++) {
		for (int j = 0; j < 2; j++) {
			int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_SEND(s.c1, &i, NULL),
					    CHAN_SEND(s.c2, &i, NULL));
			cr_assert(k == 0 || k == 1);
		}
		cr_assert_eq(chan_send(s.c3, NULL), 0);
	}
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(s.c1), 0);
	cr_assert_eq(chan_unref(s.c2), 0);
	cr_assert_eq(chan_unref(s.c3), 0);
}

static void *stress_mixed_peer(void *p)
{
	struct st *s = p;
	for (int i = 0; i < STRESS_COUNT; i++) {
		XB_CHECK(xb_send_int(s->c1, i) == 0);
		XB_CHECK(xb_recv_int(s->c2) == i);
		XB_CHECK(chan_recv(s->c3, NULL, NULL) == 0);
	}
	return NULL;
}
Test(xb_select, stress_mixed, .timeout = 240)
{
	struct st s = {bounded(0), bounded(0), chan_new(0, 100)};
	tu_go_t t = tu_spawn(stress_mixed_peer, &s);
	for (int i = 0; i < STRESS_COUNT; i++) {
		for (int j = 0; j < 2; j++) {
			int v = -1;
			int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(s.c1, &v, NULL),
					    CHAN_SEND(s.c2, &i, NULL));
			cr_assert(k == 1 || (k == 0 && v == i), "k %d v %d i %d", k, v, i);
		}
		cr_assert_eq(chan_send(s.c3, NULL), 0);
	}
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(s.c1), 0);
	cr_assert_eq(chan_unref(s.c2), 0);
	cr_assert_eq(chan_unref(s.c3), 0);
}

/* ---- stress_timeout_two_threads: selects whose timeouts expire ---- */
#define TT_COUNT 20
static void *tt_s(void *p)
{
	for (int i = 0; i < TT_COUNT; i++) {
		if (i % 2 == 0)
			xb_sleep(5 * XB_MS); /* the subject: timeouts that expire */
		while (CHAN_SELECT(chan_now() + XB_MS, CHAN_SEND((chan_t *)p, &i, NULL)) != 0)
			;
	}
	return NULL;
}
static void *tt_r(void *p)
{
	for (int i = 0; i < TT_COUNT; i++) {
		if (i % 2 == 0)
			xb_sleep(5 * XB_MS);
		int x = -1;
		while (CHAN_SELECT(chan_now() + XB_MS, CHAN_RECV((chan_t *)p, &x, NULL)) != 0)
			;
		XB_CHECK(x == i);
	}
	return NULL;
}
Test(xb_select, stress_timeout_two_threads, .timeout = 120)
{
	chan_t *c = bounded(2);
	tu_go_t s = tu_spawn(tt_s, c), r = tu_spawn(tt_r, c);
	tu_join(s);
	tu_join(r);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_select, send_recv_same_channel, .timeout = 30)
{
	chan_t *c = bounded(0);
	int v = 0, zero = 0;
	/* A select never communicates with itself. */
	cr_assert_eq(CHAN_SELECT(chan_now() + 10 * XB_MS, CHAN_SEND(c, &zero, NULL),
				 CHAN_RECV(c, &v, NULL)),
		     CHAN_TIMEOUT);
	cr_assert_eq(chan_unref(c), 0);
	c = unbounded();
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_SEND(c, &zero, NULL),
				 CHAN_RECV(c, &v, NULL)),
		     0);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- matching: goroutines that all both send and receive pair up ---- */
struct match {
	chan_t *c;
	int i;
};
static void *match_one(void *p)
{
	struct match *m = p;
	int v = -1;
	bool ok = false;
	int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(m->c, &v, &ok),
			    CHAN_SEND(m->c, &m->i, NULL));
	XB_CHECK(k == 1 || (k == 0 && ok && v != m->i));
	return NULL;
}
static void run_matching(int threads, bool leftover)
{
	chan_t *c = bounded(0);
	struct match *m = calloc((size_t)threads, sizeof *m);
	tu_go_t *t = calloc((size_t)threads, sizeof *t);
	for (int i = 0; i < threads; i++) {
		m[i] = (struct match){c, i};
		t[i] = tu_spawn(match_one, &m[i]);
	}
	if (leftover) {
		int all = ~0;
		cr_assert_eq(chan_send_until(c, &all, chan_now() + XB_PATIENCE), 0);
	}
	for (int i = 0; i < threads; i++)
		tu_join(t[i]);
	XB_ASSERT_OK();
	int v;
	cr_assert_eq(chan_try_recv(c, &v, NULL), EAGAIN);
	cr_assert_eq(chan_unref(c), 0);
	free(m);
	free(t);
}
Test(xb_select, matching, .timeout = 60)
{
	run_matching(44, false);
}
Test(xb_select, matching_with_leftover, .timeout = 60)
{
	run_matching(55, true);
}

/* ---- channel_through_channel, with selects, for cap 0, 1, 2 ---- */
#define CTC_COUNT 1000
struct ctc {
	chan_t *c;
	size_t cap;
};
static void *ctc_sender(void *p)
{
	struct ctc *x = p;
	chan_t *s = chan_ref(x->c);
	for (int i = 0; i < CTC_COUNT; i++) {
		chan_t *next = chan_new(sizeof(chan_t *), x->cap), *give = chan_ref(next);
		bool ok = false;
		XB_CHECK(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_SEND(s, &give, &ok)) == 0 &&
			 ok);
		XB_CHECK(chan_unref(s) == 0);
		s = next;
	}
	XB_CHECK(chan_unref(s) == 0);
	return NULL;
}
static void *ctc_receiver(void *p)
{
	struct ctc *x = p;
	chan_t *r = chan_ref(x->c);
	for (int i = 0; i < CTC_COUNT; i++) {
		chan_t *next = NULL;
		bool ok = false;
		XB_CHECK(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(r, &next, &ok)) == 0 &&
			 ok && next);
		if (!next)
			return NULL;
		XB_CHECK(chan_unref(r) == 0);
		r = next;
	}
	XB_CHECK(chan_unref(r) == 0);
	return NULL;
}
Test(xb_select, channel_through_channel, .timeout = 120)
{
	for (size_t cap = 0; cap < 3; cap++) {
		struct ctc x = {chan_new(sizeof(chan_t *), cap), cap};
		tu_go_t s = tu_spawn(ctc_sender, &x), r = tu_spawn(ctc_receiver, &x);
		tu_join(s);
		tu_join(r);
		cr_assert_eq(chan_unref(x.c), 0);
	}
	XB_ASSERT_OK();
}

/* ---- linearizable_try / linearizable_timeout ----
 * The peer has put a value in r2 before it takes the one in r1, so at
 * every instant of the select one of r1, r2 holds a value: a non-blocking
 * select (or one whose deadline has passed) must find one. */
#define LIN_COUNT 100000
struct lin {
	chan_t *start, *end, *c1, *c2;
	bool timeout_form;
};
static void *lin_worker(void *p)
{
	struct lin *l = p;
	for (int i = 0; i < LIN_COUNT; i++) {
		XB_CHECK(chan_send(l->start, NULL) == 0);
		XB_CHECK(xb_send_int(l->c1, 1) == 0);
		int v;
		int64_t dl = l->timeout_form ? chan_now() : CHAN_NOWAIT; /* select_timeout(0) */
		int k = CHAN_SELECT(dl, CHAN_RECV(l->c1, &v, NULL), CHAN_RECV(l->c2, &v, NULL));
		XB_CHECK(k == 0 || k == 1);
		XB_CHECK(chan_send(l->end, NULL) == 0);
		(void)chan_try_recv(l->c2, &v, NULL);
	}
	return NULL;
}
static void run_linearizable(bool timeout_form)
{
	for (int step = 0; step < 2; step++) {
		size_t cap = step == 0 ? 1 : ROOM;
		struct lin l = {chan_new(0, 0), chan_new(0, 0), bounded(cap), bounded(cap),
				timeout_form};
		tu_go_t t = tu_spawn(lin_worker, &l);
		for (int i = 0; i < LIN_COUNT; i++) {
			int v;
			cr_assert_eq(chan_recv(l.start, NULL, NULL), 0);
			cr_assert_eq(xb_send_int(l.c2, 1), 0);
			(void)chan_try_recv(l.c1, &v, NULL);
			cr_assert_eq(chan_recv(l.end, NULL, NULL), 0);
		}
		tu_join(t);
		XB_ASSERT_OK();
		cr_assert_eq(chan_unref(l.start), 0);
		cr_assert_eq(chan_unref(l.end), 0);
		cr_assert_eq(chan_unref(l.c1), 0);
		cr_assert_eq(chan_unref(l.c2), 0);
	}
}
Test(xb_select, linearizable_try, .timeout = 300)
{
	run_linearizable(false);
}
Test(xb_select, linearizable_timeout, .timeout = 300)
{
	run_linearizable(true);
}

/* ---- fairness1: two full channels, a fired After, and Go's nil Tick(0) ---- */
#define FAIR_COUNT 10000
Test(xb_select, fairness1, .timeout = 120)
{
	chan_t *r1 = chan_new(0, FAIR_COUNT), *r2 = chan_new(0, FAIR_COUNT);
	for (int i = 0; i < FAIR_COUNT; i++) {
		cr_assert_eq(chan_send(r1, NULL), 0);
		cr_assert_eq(chan_send(r2, NULL), 0);
	}
	int hits[4] = {0};
	for (int i = 0; i < FAIR_COUNT; i++) {
		chan_t *after = gotime_after(0), *tick = gotime_tick(0); /* fired; nil */
		int64_t v;
		int k = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r1, NULL, NULL),
				    CHAN_RECV(r2, NULL, NULL), CHAN_RECV(after, &v, NULL),
				    CHAN_RECV(tick, &v, NULL));
		cr_assert(k >= 0 && k < 3, "k = %d", k);
		hits[k]++;
		cr_assert_eq(chan_unref(after), 0);
	}
	for (int k = 0; k < 3; k++)
		cr_assert_geq(hits[k], FAIR_COUNT / 3 / 2, "hits[%d] = %d", k, hits[k]);
	cr_assert_eq(hits[3], 0);
	cr_assert_eq(chan_unref(r1), 0);
	cr_assert_eq(chan_unref(r2), 0);
}

/* ---- fairness2: a sender selecting over three channels of three kinds ---- */
struct f2 {
	chan_t *c1, *c2, *c3;
};
static void *f2_sender(void *p)
{
	struct f2 *f = p;
	for (int i = 0; i < FAIR_COUNT; i++) {
		chan_case_t cs[3];
		size_t n = 0;
		/* crossbeam adds a send case only while that channel is empty. */
		if (chan_len(f->c1) == 0)
			cs[n++] = CHAN_SEND(f->c1, (const void *)NULL, NULL);
		if (chan_len(f->c2) == 0)
			cs[n++] = CHAN_SEND(f->c2, (const void *)NULL, NULL);
		cs[n++] = CHAN_SEND(f->c3, (const void *)NULL, NULL);
		int k = chan_select(cs, n, chan_now() + XB_PATIENCE);
		XB_CHECK(k >= 0 && k < (int)n);
	}
	return NULL;
}
Test(xb_select, fairness2, .timeout = 120)
{
	struct f2 f = {chan_new(0, ROOM), chan_new(0, 1), chan_new(0, 0)};
	tu_go_t t = tu_spawn(f2_sender, &f);
	int hits[3] = {0};
	for (int i = 0; i < FAIR_COUNT; i++) {
		int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(f.c1, NULL, NULL),
				    CHAN_RECV(f.c2, NULL, NULL), CHAN_RECV(f.c3, NULL, NULL));
		cr_assert(k >= 0 && k < 3);
		hits[k]++;
	}
	tu_join(t);
	XB_ASSERT_OK();
	for (int k = 0; k < 3; k++)
		cr_assert_geq(hits[k], FAIR_COUNT / 3 / 50, "hits[%d] = %d", k, hits[k]);
	cr_assert_eq(chan_unref(f.c1), 0);
	cr_assert_eq(chan_unref(f.c2), 0);
	cr_assert_eq(chan_unref(f.c3), 0);
}

/* ---- sync_and_clone / send_and_clone: one select, copied per goroutine ---- */
struct shared_sel {
	const chan_case_t *proto; /* recv r, send s: elem filled per goroutine */
	int i;
};
static void *clone_sel(void *p)
{
	struct shared_sel *s = p;
	int v = -1;
	bool ok = false;
	chan_case_t cs[2] = {s->proto[0], s->proto[1]}; /* sel.clone() */
	cs[0].elem = &v;
	cs[0].ok = &ok;
	cs[1].elem = &s->i;
	int k = chan_select(cs, 2, chan_now() + XB_PATIENCE);
	XB_CHECK(k == 1 || (k == 0 && ok && v != s->i));
	return NULL;
}
static void run_clone(int threads)
{
	chan_t *c = bounded(0);
	int dummy = 0;
	const chan_case_t proto[2] = {CHAN_RECV(c, &dummy, NULL), CHAN_SEND(c, &dummy, NULL)};
	struct shared_sel *s = calloc((size_t)threads, sizeof *s);
	tu_go_t *t = calloc((size_t)threads, sizeof *t);
	for (int i = 0; i < threads; i++) {
		s[i] = (struct shared_sel){proto, i};
		t[i] = tu_spawn(clone_sel, &s[i]);
	}
	for (int i = 0; i < threads; i++)
		tu_join(t[i]);
	XB_ASSERT_OK();
	int v;
	cr_assert_eq(chan_try_recv(c, &v, NULL), EAGAIN);
	cr_assert_eq(chan_unref(c), 0);
	free(s);
	free(t);
}
Test(xb_select, sync_and_clone, .timeout = 60)
{
	run_clone(20);
}
Test(xb_select, send_and_clone, .timeout = 60)
{
	run_clone(20);
}

/* ---- reuse: one case array, many selects ---- */
Test(xb_select, reuse, .timeout = 240)
{
	struct st s = {bounded(0), bounded(0), chan_new(0, 100)};
	tu_go_t t = tu_spawn(stress_mixed_peer, &s);
	int v = -1, i = 0;
	chan_case_t cs[2] = {CHAN_RECV(s.c1, &v, NULL), CHAN_SEND(s.c2, &i, NULL)};
	for (i = 0; i < STRESS_COUNT; i++) {
		for (int j = 0; j < 2; j++) {
			v = -1;
			int k = chan_select(cs, 2, chan_now() + XB_PATIENCE);
			cr_assert(k == 1 || (k == 0 && v == i), "k %d v %d i %d", k, v, i);
		}
		cr_assert_eq(chan_send(s.c3, NULL), 0);
	}
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(s.c1), 0);
	cr_assert_eq(chan_unref(s.c2), 0);
	cr_assert_eq(chan_unref(s.c3), 0);
}

/* ---- issue_1096: a one-case select on each flavor, through a "clone" ---- */
static void *send123(void *p)
{
	XB_CHECK(xb_send_int(p, 123) == 0);
	return NULL;
}
static void *recv124(void *p)
{
	XB_CHECK(xb_recv_int(p) == 124);
	return NULL;
}
Test(xb_select, issue_1096, .timeout = 60)
{
	const size_t caps[2] = {ROOM, 2}; /* unbounded, bounded(2) */
	for (int f = 0; f < 2; f++) {
		chan_t *c = bounded(caps[f]);
		int v = 0, w = 124;
		cr_assert_eq(xb_send_int(c, 123), 0);
		chan_t *clone = chan_ref(c);
		cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(clone, &v, NULL)), 0);
		cr_assert_eq(v, 123);
		cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(clone, &w, NULL)), 0);
		cr_assert_eq(xb_recv_int(c), 124);
		cr_assert_eq(chan_unref(clone), 0);
		cr_assert_eq(chan_unref(c), 0);
	}
	chan_t *z = bounded(0);
	int v = 0, w = 124;
	tu_go_t t = tu_spawn(send123, z);
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(z, &v, NULL)), 0);
	cr_assert_eq(v, 123);
	tu_join(t);
	t = tu_spawn(recv124, z);
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_SEND(z, &w, NULL)), 0);
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(z), 0);
}
