/*
 * tests/test_xb_zero.c - crossbeam-channel's tests/zero.rs (the bounded(0)
 * flavor: a rendezvous) ported to gochan's unbuffered channels,
 * chan_new(size, 0).
 *
 * Mapping as in tests/test_xb_array.c: drop(s) and drop(r) become
 * chan_close (a sender then fails with EPIPE, Go's "send on closed
 * channel"; a receiver gets ok == false), Empty/Full EAGAIN, Timeout
 * ETIMEDOUT; is_full() of a zero-capacity channel is always true (len ==
 * cap == 0).  crossbeam's sleeps that order events become events and waits
 * until a goroutine is really parked (tu_wait_blocked): on a rendezvous
 * channel "the other side is already waiting" is what makes a try_send or
 * try_recv succeed, so the ports wait for exactly that.
 *
 * Ported: smoke, capacity, len_empty_full, try_recv, recv, recv_timeout,
 * try_send, send, send_timeout, len, disconnect_wakes_sender,
 * disconnect_wakes_receiver, spsc, mpmc, stress_oneshot, stress_iter,
 * stress_timeout_two_threads, drops (as counts), fairness,
 * fairness_duplicates, recv_in_send, channel_through_channel (22): all of
 * zero.rs.  `drops` checks counts only (no destructor runs on a channel's
 * values in C).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <stdlib.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_zero);

Test(xb_zero, smoke)
{
	chan_t *c = chan_new(sizeof(int), 0);
	int v = 7;
	cr_assert_eq(chan_try_send(c, &v), EAGAIN);
	cr_assert_eq(chan_try_recv(c, &v, NULL), EAGAIN);
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_zero, capacity)
{
	chan_t *c = chan_new(0, 0);
	cr_assert_eq(chan_cap(c), 0);
	cr_assert_eq(chan_unref(c), 0);
}

static void *send0(void *p)
{
	XB_CHECK(xb_send_int(p, 0) == 0);
	return NULL;
}
static void *recv0(void *p)
{
	XB_CHECK(xb_recv_int(p) == 0);
	return NULL;
}

Test(xb_zero, len_empty_full, .timeout = 60)
{
	chan_t *c = chan_new(sizeof(int), 0);
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_len(c), chan_cap(c)); /* empty and full at once */
	tu_go_t s = tu_spawn(send0, c), r = tu_spawn(recv0, c);
	tu_join(s);
	tu_join(r);
	XB_ASSERT_OK();
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_len(c), chan_cap(c));
	cr_assert_eq(chan_unref(c), 0);
}

struct duo {
	chan_t *c;
	chan_t *ev[2];
	tu_blocker_t blk[3];
};

static void duo_init(struct duo *d)
{
	d->c = chan_new(sizeof(int), 0);
	for (int i = 0; i < 2; i++)
		d->ev[i] = xb_event();
	for (int i = 0; i < 3; i++)
		d->blk[i] = (tu_blocker_t)TU_BLOCKER_INIT;
}

static void duo_run(struct duo *d, void *(*a)(void *), void *(*b)(void *))
{
	tu_go_t ta = tu_spawn(a, d), tb = tu_spawn(b, d);
	tu_join(ta);
	tu_join(tb);
	XB_ASSERT_OK();
	for (int i = 0; i < 2; i++)
		cr_assert_eq(chan_unref(d->ev[i]), 0);
	cr_assert_eq(chan_unref(d->c), 0);
}

/* ---- try_recv: Empty; Ok from a blocked sender; Disconnected ---- */
static void *try_recv_r(void *p)
{
	struct duo *d = p;
	int v = 0;
	bool ok = false;
	XB_CHECK(chan_try_recv(d->c, &v, &ok) == EAGAIN);
	xb_set(d->ev[0]);
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS)); /* the sender waits */
	XB_CHECK(chan_try_recv(d->c, &v, &ok) == 0 && ok && v == 7);
	xb_wait(d->ev[1]); /* the sender has gone */
	XB_CHECK(chan_try_recv(d->c, &v, &ok) == 0 && !ok);
	return NULL;
}
static void *try_recv_s(void *p)
{
	struct duo *d = p;
	xb_wait(d->ev[0]);
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(xb_send_int(d->c, 7) == 0);
	XB_CHECK(chan_close(d->c) == 0); /* drop(s) */
	xb_set(d->ev[1]);
	return NULL;
}
Test(xb_zero, try_recv, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, try_recv_r, try_recv_s);
}

/* ---- recv: each receive meets a sender, then Disconnected ---- */
static void *recv_r(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(xb_recv_int(d->c) == 7);
	XB_CHECK(xb_wait_blocked(&d->blk[1], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_recv_int(d->c) == 8);
	XB_CHECK(xb_wait_blocked(&d->blk[2], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_recv_int(d->c) == 9);
	XB_CHECK(xb_recv_int(d->c) == -999);
	return NULL;
}
static void *recv_s(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_send_int(d->c, 7) == 0);
	tu_about_to_block(&d->blk[1]);
	XB_CHECK(xb_send_int(d->c, 8) == 0);
	tu_about_to_block(&d->blk[2]);
	XB_CHECK(xb_send_int(d->c, 9) == 0);
	XB_CHECK(chan_close(d->c) == 0);
	return NULL;
}
Test(xb_zero, recv, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, recv_r, recv_s);
}

/* ---- recv_timeout ---- */
static void *recv_timeout_r(void *p)
{
	struct duo *d = p;
	int v = 0;
	bool ok = false;
	int64_t t0 = chan_now();
	XB_CHECK(chan_recv_until(d->c, &v, &ok, t0 + XB_MS) == ETIMEDOUT);
	XB_CHECK(chan_now() - t0 >= XB_MS);
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(chan_recv_until(d->c, &v, &ok, chan_now() + XB_PATIENCE) == 0 && ok && v == 7);
	XB_CHECK(chan_recv_until(d->c, &v, &ok, chan_now() + XB_PATIENCE) == 0 && !ok);
	return NULL;
}
static void *recv_timeout_s(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_send_int(d->c, 7) == 0);
	XB_CHECK(chan_close(d->c) == 0);
	return NULL;
}
Test(xb_zero, recv_timeout, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, recv_timeout_r, recv_timeout_s);
}

/* ---- try_send: Full; Ok to a blocked receiver; Disconnected ---- */
static void *try_send_s(void *p)
{
	struct duo *d = p;
	int v = 7;
	XB_CHECK(chan_try_send(d->c, &v) == EAGAIN);
	xb_set(d->ev[0]);
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS)); /* the receiver waits */
	v = 8;
	XB_CHECK(chan_try_send(d->c, &v) == 0);
	xb_wait(d->ev[1]); /* the receiver has gone */
	v = 9;
	XB_CHECK(chan_try_send(d->c, &v) == EPIPE);
	return NULL;
}
static void *try_send_r(void *p)
{
	struct duo *d = p;
	xb_wait(d->ev[0]);
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(xb_recv_int(d->c) == 8);
	XB_CHECK(chan_close(d->c) == 0); /* drop(r) */
	xb_set(d->ev[1]);
	return NULL;
}
Test(xb_zero, try_send, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, try_send_s, try_send_r);
}

/* ---- send: every send waits for its receiver ---- */
static void *send_s(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(xb_send_int(d->c, 7) == 0);
	XB_CHECK(xb_send_int(d->c, 8) == 0);
	XB_CHECK(xb_send_int(d->c, 9) == 0);
	return NULL;
}
static void *send_r(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_recv_int(d->c) == 7);
	XB_CHECK(xb_recv_int(d->c) == 8);
	XB_CHECK(xb_recv_int(d->c) == 9);
	return NULL;
}
Test(xb_zero, send, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, send_s, send_r);
}

/* ---- send_timeout: Timeout; Ok; Disconnected (woken by close) ---- */
static void *send_timeout_s(void *p)
{
	struct duo *d = p;
	int v = 7;
	int64_t t0 = chan_now();
	XB_CHECK(chan_send_until(d->c, &v, t0 + XB_MS) == ETIMEDOUT);
	XB_CHECK(chan_now() - t0 >= XB_MS);
	xb_set(d->ev[0]);
	v = 8;
	XB_CHECK(chan_send_until(d->c, &v, chan_now() + XB_PATIENCE) == 0);
	v = 9;
	XB_CHECK(chan_send_until(d->c, &v, chan_now() + XB_PATIENCE) == EPIPE);
	return NULL;
}
static void *send_timeout_r(void *p)
{
	struct duo *d = p;
	xb_wait(d->ev[0]);
	XB_CHECK(xb_recv_int(d->c) == 8);
	XB_CHECK(chan_close(d->c) == 0); /* drop(r) */
	return NULL;
}
Test(xb_zero, send_timeout, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, send_timeout_s, send_timeout_r);
}

/* ---- len: always 0 ---- */
#define LEN_COUNT 25000
static void *len_r(void *p)
{
	for (int i = 0; i < LEN_COUNT; i++) {
		XB_CHECK(xb_recv_int(p) == i);
		XB_CHECK(chan_len(p) == 0);
	}
	return NULL;
}
static void *len_s(void *p)
{
	for (int i = 0; i < LEN_COUNT; i++) {
		XB_CHECK(xb_send_int(p, i) == 0);
		XB_CHECK(chan_len(p) == 0);
	}
	return NULL;
}
Test(xb_zero, len, .timeout = 120)
{
	chan_t *c = chan_new(sizeof(int), 0);
	cr_assert_eq(chan_len(c), 0);
	tu_go_t r = tu_spawn(len_r, c), s = tu_spawn(len_s, c);
	tu_join(r);
	tu_join(s);
	XB_ASSERT_OK();
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- disconnection wakes a blocked sender / receiver ---- */
static void *wakes_sender(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(xb_send_int(d->c, 0) == EPIPE);
	return NULL;
}
static void *wakes_receiver(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk[0]);
	XB_CHECK(xb_recv_int(d->c) == -999);
	return NULL;
}
static void *wakes_closer(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk[0], TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(chan_close(d->c) == 0);
	return NULL;
}
Test(xb_zero, disconnect_wakes_sender, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, wakes_sender, wakes_closer);
}
Test(xb_zero, disconnect_wakes_receiver, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	duo_run(&d, wakes_receiver, wakes_closer);
}

/* ---- spsc ---- */
#define SPSC_COUNT 100000
static void *spsc_r(void *p)
{
	for (int i = 0; i < SPSC_COUNT; i++)
		XB_CHECK(xb_recv_int(p) == i);
	XB_CHECK(xb_recv_int(p) == -999);
	return NULL;
}
static void *spsc_s(void *p)
{
	for (int i = 0; i < SPSC_COUNT; i++)
		XB_CHECK(xb_send_int(p, i) == 0);
	XB_CHECK(chan_close(p) == 0);
	return NULL;
}
Test(xb_zero, spsc, .timeout = 240)
{
	chan_t *c = chan_new(sizeof(int), 0);
	tu_go_t r = tu_spawn(spsc_r, c), s = tu_spawn(spsc_s, c);
	tu_join(r);
	tu_join(s);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- mpmc ---- */
#define MPMC_COUNT 25000
#define MPMC_THREADS 4
struct mpmc {
	chan_t *c;
	atomic_int v[MPMC_COUNT];
};
static void *mpmc_r(void *p)
{
	struct mpmc *m = p;
	for (int i = 0; i < MPMC_COUNT; i++) {
		int n = xb_recv_int(m->c);
		XB_CHECK(n >= 0 && n < MPMC_COUNT);
		if (n >= 0 && n < MPMC_COUNT)
			atomic_fetch_add_explicit(&m->v[n], 1, memory_order_relaxed);
	}
	return NULL;
}
static void *mpmc_s(void *p)
{
	struct mpmc *m = p;
	for (int i = 0; i < MPMC_COUNT; i++)
		XB_CHECK(xb_send_int(m->c, i) == 0);
	return NULL;
}
Test(xb_zero, mpmc, .timeout = 240)
{
	struct mpmc *m = calloc(1, sizeof *m);
	m->c = chan_new(sizeof(int), 0);
	tu_go_t t[2 * MPMC_THREADS];
	for (int i = 0; i < MPMC_THREADS; i++)
		t[i] = tu_spawn(mpmc_r, m);
	for (int i = 0; i < MPMC_THREADS; i++)
		t[MPMC_THREADS + i] = tu_spawn(mpmc_s, m);
	for (int i = 0; i < 2 * MPMC_THREADS; i++)
		tu_join(t[i]);
	XB_ASSERT_OK();
	for (int i = 0; i < MPMC_COUNT; i++)
		cr_assert_eq(atomic_load(&m->v[i]), MPMC_THREADS, "value %d", i);
	cr_assert_eq(chan_unref(m->c), 0);
	free(m);
}

Test(xb_zero, stress_oneshot, .timeout = 240)
{
	for (int i = 0; i < 10000; i++) {
		chan_t *c = chan_new(sizeof(int), 0);
		tu_go_t r = tu_spawn(recv0, c), s = tu_spawn(send0, c);
		tu_join(r);
		tu_join(s);
		cr_assert_eq(chan_unref(c), 0);
	}
	XB_ASSERT_OK();
}

/* ---- stress_iter: the request is a try_send, so most are dropped ---- */
#define ITER_COUNT 1000
struct reqresp {
	chan_t *req, *resp;
};
static void *stress_iter_client(void *p)
{
	struct reqresp *rr = p;
	int count = 0;
	for (;;) {
		int x;
		bool ok;
		while (chan_try_recv(rr->resp, &x, &ok) == 0 && ok) {
			count += x;
			if (count == ITER_COUNT)
				goto out;
		}
		int rc = chan_try_send(rr->req, NULL);
		XB_CHECK(rc == 0 || rc == EAGAIN);
		tu_fiber_yield(); /* a polling loop: let the server's fiber run */
	}
out:
	XB_CHECK(chan_close(rr->req) == 0);
	XB_CHECK(chan_close(rr->resp) == 0);
	return NULL;
}
Test(xb_zero, stress_iter, .timeout = 240)
{
	struct reqresp rr = {chan_new(0, 0), chan_new(sizeof(int), 0)};
	tu_go_t t = tu_spawn(stress_iter_client, &rr);
	CHAN_RANGE(rr.req, NULL) {
		int one = 1;
		if (chan_send(rr.resp, &one) != 0)
			break;
	}
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(rr.req), 0);
	cr_assert_eq(chan_unref(rr.resp), 0);
}

/* ---- stress_timeout_two_threads ---- */
#define TT_COUNT 100
static void *tt_s(void *p)
{
	for (int i = 0; i < TT_COUNT; i++) {
		if (i % 2 == 0)
			xb_sleep(5 * XB_MS); /* the test's subject: let timeouts expire */
		while (chan_send_until(p, &i, chan_now() + XB_MS) != 0)
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
		while (chan_recv_until(p, &x, NULL, chan_now() + XB_MS) != 0)
			;
		XB_CHECK(x == i);
	}
	return NULL;
}
Test(xb_zero, stress_timeout_two_threads, .timeout = 120)
{
	chan_t *c = chan_new(sizeof(int), 0);
	tu_go_t s = tu_spawn(tt_s, c), r = tu_spawn(tt_r, c);
	tu_join(s);
	tu_join(r);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- drops, as counts: every value sent was received, none left ---- */
struct drops {
	chan_t *c;
	int steps;
	atomic_int received;
};
static void *drops_r(void *p)
{
	struct drops *d = p;
	for (int i = 0; i < d->steps; i++)
		if (chan_recv(d->c, NULL, NULL) == 0)
			atomic_fetch_add_explicit(&d->received, 1, memory_order_relaxed);
	return NULL;
}
static void *drops_s(void *p)
{
	struct drops *d = p;
	for (int i = 0; i < d->steps; i++)
		XB_CHECK(xb_send_int(d->c, i) == 0);
	return NULL;
}
Test(xb_zero, drops, .timeout = 240)
{
	unsigned seed = 54321;
	for (int run = 0; run < 100; run++) {
		struct drops d = {chan_new(sizeof(int), 0), rand_r(&seed) % 10000, 0};
		tu_go_t r = tu_spawn(drops_r, &d), s = tu_spawn(drops_s, &d);
		tu_join(r);
		tu_join(s);
		cr_assert_eq(atomic_load(&d.received), d.steps);
		cr_assert_eq(chan_len(d.c), 0);
		cr_assert_eq(chan_unref(d.c), 0);
	}
	XB_ASSERT_OK();
}

/* ---- fairness: blocking selects on both sides ---- */
#define FAIR_COUNT 10000
struct fair {
	chan_t *c[5];
	int n;
	int hits[5];
};
static void *fair_receiver(void *p)
{
	struct fair *f = p;
	chan_case_t cs[5];
	for (int i = 0; i < f->n; i++)
		cs[i] = CHAN_RECV(f->c[i], NULL, NULL);
	for (int k = 0; k < FAIR_COUNT; k++) {
		int i = chan_select(cs, (size_t)f->n, chan_now() + XB_PATIENCE);
		XB_CHECK(i >= 0 && i < f->n);
		if (i >= 0 && i < f->n)
			f->hits[i]++;
	}
	return NULL;
}
static void fair_run(struct fair *f)
{
	struct fair rf = *f;
	tu_go_t t = tu_spawn(fair_receiver, &rf);
	chan_case_t cs[5];
	for (int i = 0; i < f->n; i++)
		cs[i] = CHAN_SEND(f->c[i], (const void *)NULL, NULL);
	for (int k = 0; k < FAIR_COUNT; k++) {
		int i = chan_select(cs, (size_t)f->n, CHAN_FOREVER);
		cr_assert(i >= 0 && i < f->n);
		f->hits[i]++;
	}
	tu_join(t);
	XB_ASSERT_OK();
	for (int i = 0; i < f->n; i++) {
		cr_assert_geq(f->hits[i], FAIR_COUNT / f->n / 2, "send hits[%d] = %d", i,
			      f->hits[i]);
		cr_assert_geq(rf.hits[i], FAIR_COUNT / f->n / 2, "recv hits[%d] = %d", i,
			      rf.hits[i]);
	}
}
Test(xb_zero, fairness, .timeout = 120)
{
	struct fair f = {.c = {chan_new(0, 0), chan_new(0, 0)}, .n = 2};
	fair_run(&f);
	cr_assert_eq(chan_unref(f.c[0]), 0);
	cr_assert_eq(chan_unref(f.c[1]), 0);
}
Test(xb_zero, fairness_duplicates, .timeout = 120)
{
	chan_t *c = chan_new(0, 0);
	struct fair f = {.c = {c, c, c, c, c}, .n = 5};
	fair_run(&f);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- recv_in_send: the send case's value comes from a receive on entry ---- */
static void *ris_r(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_recv_int(d->c) == 0); /* takes the select's send */
	return NULL;
}
static void *ris_s(void *p)
{
	struct duo *d = p;
	xb_wait(d->ev[0]); /* the body is in its receive */
	XB_CHECK(xb_send_int(d->c, 0) == 0);
	return NULL;
}
Test(xb_zero, recv_in_send, .timeout = 60)
{
	struct duo d;
	duo_init(&d);
	tu_go_t s = tu_spawn(ris_s, &d);
	xb_set(d.ev[0]);
	int v = xb_recv_int(d.c); /* Go and crossbeam evaluate this on entry */
	cr_assert_eq(v, 0);
	tu_go_t r = tu_spawn(ris_r, &d);
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_SEND(d.c, &v, NULL)), 0);
	tu_join(s);
	tu_join(r);
	XB_ASSERT_OK();
	for (int i = 0; i < 2; i++)
		cr_assert_eq(chan_unref(d.ev[i]), 0);
	cr_assert_eq(chan_unref(d.c), 0);
}

/* ---- channel_through_channel ---- */
#define CTC_COUNT 1000
static void *ctc_sender(void *p)
{
	chan_t *s = p;
	for (int i = 0; i < CTC_COUNT; i++) {
		chan_t *next = chan_new(sizeof(chan_t *), 0);
		chan_t *give = chan_ref(next);
		XB_CHECK(chan_send(s, &give) == 0);
		XB_CHECK(chan_unref(s) == 0);
		s = next;
	}
	XB_CHECK(chan_unref(s) == 0);
	return NULL;
}
static void *ctc_receiver(void *p)
{
	chan_t *r = p;
	for (int i = 0; i < CTC_COUNT; i++) {
		chan_t *next = NULL;
		bool ok = false;
		XB_CHECK(chan_recv_until(r, &next, &ok, chan_now() + XB_PATIENCE) == 0 && ok &&
			 next);
		if (!next)
			return NULL;
		chan_unref(r);
		r = next;
	}
	XB_CHECK(chan_unref(r) == 0);
	return NULL;
}
Test(xb_zero, channel_through_channel, .timeout = 60)
{
	chan_t *c = chan_new(sizeof(chan_t *), 0);
	tu_go_t s = tu_spawn(ctc_sender, chan_ref(c)), r = tu_spawn(ctc_receiver, c);
	tu_join(s);
	tu_join(r);
	XB_ASSERT_OK();
}
