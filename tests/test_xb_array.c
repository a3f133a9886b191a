/*
 * tests/test_xb_array.c - crossbeam-channel's tests/array.rs (the bounded(n)
 * flavor, n > 0) ported to gochan's buffered channels, chan_new(size, n).
 *
 * Mapping (Go's semantics where crossbeam's differ):
 *   bounded(n)                 chan_new(sizeof(int), n)
 *   drop(s) (last sender)      chan_close(c): receivers drain, then ok == false
 *   drop(r) (last receiver)    chan_close(c) by the receiving side: later sends
 *                              fail with EPIPE (Go's "send on closed
 *                              channel"); values already buffered stay there
 *   Err(Disconnected) on recv  rc 0 with ok == false
 *   Err(Empty) / Err(Full)     EAGAIN; Err(Timeout): ETIMEDOUT
 *   s.len(), capacity()        chan_len, chan_cap; is_full: len == cap
 *   select!                    chan_select (CHAN_SELECT)
 *   try_iter()                 try_recv until EAGAIN; iter(): CHAN_RANGE
 * Threads become goroutines (tu_spawn: threads, or fibers in fiber mode).
 * crossbeam's thread::sleep calls that order events are replaced by events
 * (test_xb_util.h) and by waiting until a goroutine is really parked
 * (tu_wait_blocked); its timeouts of 500-1000 ms that must expire become
 * 1 ms ones (only ever a lower bound on time is asserted).
 *
 * Ported: smoke, capacity, len_empty_full, try_recv, recv, recv_timeout,
 * try_send, send, send_timeout, send_after_disconnect,
 * recv_after_disconnect, len, disconnect_wakes_sender,
 * disconnect_wakes_receiver, spsc, mpmc, stress_oneshot, stress_iter,
 * stress_timeout_two_threads, drops (as counts), linearizable, fairness,
 * fairness_duplicates, recv_in_send, channel_through_channel (25).
 * Skipped (2): panic_on_drop, drop_unreceived: a channel holds bytes, no
 * destructor runs on the values it drops (C has no Drop); the count part of
 * `drops` is kept.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <stdlib.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_array);

Test(xb_array, smoke)
{
	chan_t *c = chan_new(sizeof(int), 1);
	int v = 7;
	cr_assert_eq(chan_send(c, &v), 0);
	v = 0;
	cr_assert_eq(chan_try_recv(c, &v, NULL), 0);
	cr_assert_eq(v, 7);
	v = 8;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(xb_recv_int(c), 8);
	cr_assert_eq(chan_try_recv(c, &v, NULL), EAGAIN);
	int64_t t0 = chan_now();
	cr_assert_eq(chan_recv_until(c, &v, NULL, t0 + XB_MS), ETIMEDOUT);
	cr_assert_geq(chan_now() - t0, XB_MS);
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_array, capacity)
{
	for (size_t i = 1; i < 10; i++) {
		chan_t *c = chan_new(0, i);
		cr_assert_eq(chan_cap(c), i);
		cr_assert_eq(chan_unref(c), 0);
	}
}

Test(xb_array, len_empty_full)
{
	chan_t *c = chan_new(0, 2);
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_send(c, NULL), 0);
	cr_assert_eq(chan_len(c), 1);
	cr_assert_neq(chan_len(c), chan_cap(c));
	cr_assert_eq(chan_send(c, NULL), 0);
	cr_assert_eq(chan_len(c), 2);
	cr_assert_eq(chan_len(c), chan_cap(c)); /* is_full */
	cr_assert_eq(chan_recv(c, NULL, NULL), 0);
	cr_assert_eq(chan_len(c), 1);
	cr_assert_neq(chan_len(c), chan_cap(c));
	cr_assert_eq(chan_unref(c), 0);
}

/* Two goroutines and the events that order them (crossbeam's sleeps). */
struct duo {
	chan_t *c;
	chan_t *ev[4];
	tu_blocker_t blk;
};

static void duo_init(struct duo *d, size_t cap)
{
	d->c = chan_new(sizeof(int), cap);
	for (int i = 0; i < 4; i++)
		d->ev[i] = xb_event();
	d->blk = (tu_blocker_t)TU_BLOCKER_INIT;
}

static void duo_run(struct duo *d, void *(*a)(void *), void *(*b)(void *))
{
	tu_go_t ta = tu_spawn(a, d), tb = tu_spawn(b, d);
	tu_join(ta);
	tu_join(tb);
	XB_ASSERT_OK();
	for (int i = 0; i < 4; i++)
		cr_assert_eq(chan_unref(d->ev[i]), 0);
	cr_assert_eq(chan_unref(d->c), 0);
}

/* ---- try_recv: Empty, then the value, then Disconnected ---- */
static void *try_recv_r(void *p)
{
	struct duo *d = p;
	int v = 0;
	bool ok = true;
	XB_CHECK(chan_try_recv(d->c, &v, &ok) == EAGAIN);
	xb_set(d->ev[0]);
	xb_wait(d->ev[1]); /* 7 sent */
	XB_CHECK(chan_try_recv(d->c, &v, &ok) == 0 && ok && v == 7);
	xb_set(d->ev[2]);
	xb_wait(d->ev[3]); /* closed */
	XB_CHECK(chan_try_recv(d->c, &v, &ok) == 0 && !ok && v == 0);
	return NULL;
}
static void *try_recv_s(void *p)
{
	struct duo *d = p;
	xb_wait(d->ev[0]);
	XB_CHECK(xb_send_int(d->c, 7) == 0);
	xb_set(d->ev[1]);
	xb_wait(d->ev[2]);
	XB_CHECK(chan_close(d->c) == 0); /* drop(s) */
	xb_set(d->ev[3]);
	return NULL;
}
Test(xb_array, try_recv, .timeout = 60)
{
	struct duo d;
	duo_init(&d, 100);
	duo_run(&d, try_recv_r, try_recv_s);
}

/* ---- recv: a blocked receive, then buffered values, then Disconnected ---- */
static void *recv_r(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk);
	XB_CHECK(xb_recv_int(d->c) == 7);
	xb_wait(d->ev[0]); /* 8 and 9 buffered, and closed */
	XB_CHECK(chan_len(d->c) == 2);
	XB_CHECK(xb_recv_int(d->c) == 8);
	XB_CHECK(xb_recv_int(d->c) == 9);
	XB_CHECK(xb_recv_int(d->c) == -999);
	return NULL;
}
static void *recv_s(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk, TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_send_int(d->c, 7) == 0);
	XB_CHECK(xb_send_int(d->c, 8) == 0);
	XB_CHECK(xb_send_int(d->c, 9) == 0);
	XB_CHECK(chan_close(d->c) == 0);
	xb_set(d->ev[0]);
	return NULL;
}
Test(xb_array, recv, .timeout = 60)
{
	struct duo d;
	duo_init(&d, 100);
	duo_run(&d, recv_r, recv_s);
}

/* ---- recv_timeout: Timeout, then a value while waiting, then Disconnected ---- */
static void *recv_timeout_r(void *p)
{
	struct duo *d = p;
	int v = 0;
	bool ok = false;
	int64_t t0 = chan_now();
	XB_CHECK(chan_recv_until(d->c, &v, &ok, t0 + XB_MS) == ETIMEDOUT);
	XB_CHECK(chan_now() - t0 >= XB_MS);
	tu_about_to_block(&d->blk);
	XB_CHECK(chan_recv_until(d->c, &v, &ok, chan_now() + XB_PATIENCE) == 0 && ok && v == 7);
	XB_CHECK(chan_recv_until(d->c, &v, &ok, chan_now() + XB_PATIENCE) == 0 && !ok);
	return NULL;
}
static void *recv_timeout_s(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk, TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_send_int(d->c, 7) == 0);
	XB_CHECK(chan_close(d->c) == 0);
	return NULL;
}
Test(xb_array, recv_timeout, .timeout = 60)
{
	struct duo d;
	duo_init(&d, 100);
	duo_run(&d, recv_timeout_r, recv_timeout_s);
}

/* ---- try_send: Ok, Full, Ok once there is room, Disconnected ---- */
static void *try_send_s(void *p)
{
	struct duo *d = p;
	int v = 1;
	XB_CHECK(chan_try_send(d->c, &v) == 0);
	v = 2;
	XB_CHECK(chan_try_send(d->c, &v) == EAGAIN);
	xb_set(d->ev[0]);
	xb_wait(d->ev[1]); /* 1 received */
	v = 3;
	XB_CHECK(chan_try_send(d->c, &v) == 0);
	xb_wait(d->ev[2]); /* the receiver has gone: closed */
	v = 4;
	XB_CHECK(chan_try_send(d->c, &v) == EPIPE);
	return NULL;
}
static void *try_send_r(void *p)
{
	struct duo *d = p;
	int v = 0;
	xb_wait(d->ev[0]);
	XB_CHECK(chan_try_recv(d->c, &v, NULL) == 0 && v == 1);
	XB_CHECK(chan_try_recv(d->c, &v, NULL) == EAGAIN);
	xb_set(d->ev[1]);
	XB_CHECK(xb_recv_int(d->c) == 3);
	XB_CHECK(chan_close(d->c) == 0); /* drop(r) */
	xb_set(d->ev[2]);
	return NULL;
}
Test(xb_array, try_send, .timeout = 60)
{
	struct duo d;
	duo_init(&d, 1);
	duo_run(&d, try_send_s, try_send_r);
}

/* ---- send: a buffered send, then sends that block until received ---- */
static void *send_s(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_send_int(d->c, 7) == 0); /* into the buffer */
	tu_about_to_block(&d->blk);
	XB_CHECK(xb_send_int(d->c, 8) == 0); /* blocks: full */
	XB_CHECK(xb_send_int(d->c, 9) == 0);
	XB_CHECK(xb_send_int(d->c, 10) == 0);
	return NULL;
}
static void *send_r(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk, TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_recv_int(d->c) == 7);
	XB_CHECK(xb_recv_int(d->c) == 8);
	XB_CHECK(xb_recv_int(d->c) == 9);
	return NULL;
}
Test(xb_array, send, .timeout = 60)
{
	struct duo d;
	duo_init(&d, 1);
	duo_run(&d, send_s, send_r);
}

/* ---- send_timeout: Ok, Ok, Timeout (full), Ok after a receive, Disconnected ---- */
static void *send_timeout_s(void *p)
{
	struct duo *d = p;
	int v = 1;
	XB_CHECK(chan_send_until(d->c, &v, chan_now() + XB_PATIENCE) == 0);
	v = 2;
	XB_CHECK(chan_send_until(d->c, &v, chan_now() + XB_PATIENCE) == 0);
	v = 3;
	int64_t t0 = chan_now();
	XB_CHECK(chan_send_until(d->c, &v, t0 + XB_MS) == ETIMEDOUT);
	XB_CHECK(chan_now() - t0 >= XB_MS);
	xb_set(d->ev[0]);
	xb_wait(d->ev[1]); /* 1 received: room for one */
	v = 4;
	XB_CHECK(chan_send_until(d->c, &v, chan_now() + XB_PATIENCE) == 0);
	xb_set(d->ev[2]);
	xb_wait(d->ev[3]); /* the receiver has gone */
	v = 5;
	XB_CHECK(chan_send(d->c, &v) == EPIPE);
	return NULL;
}
static void *send_timeout_r(void *p)
{
	struct duo *d = p;
	xb_wait(d->ev[0]);
	XB_CHECK(xb_recv_int(d->c) == 1);
	xb_set(d->ev[1]);
	xb_wait(d->ev[2]);
	XB_CHECK(xb_recv_int(d->c) == 2);
	XB_CHECK(xb_recv_int(d->c) == 4);
	XB_CHECK(chan_close(d->c) == 0); /* drop(r) */
	xb_set(d->ev[3]);
	return NULL;
}
Test(xb_array, send_timeout, .timeout = 60)
{
	struct duo d;
	duo_init(&d, 2);
	duo_run(&d, send_timeout_s, send_timeout_r);
}

Test(xb_array, send_after_disconnect)
{
	chan_t *c = chan_new(sizeof(int), 100);
	for (int i = 1; i <= 3; i++)
		cr_assert_eq(xb_send_int(c, i), 0);
	cr_assert_eq(chan_close(c), 0); /* drop(r) */
	int v = 4;
	cr_assert_eq(chan_send(c, &v), EPIPE);
	v = 5;
	cr_assert_eq(chan_try_send(c, &v), EPIPE);
	v = 6;
	cr_assert_eq(chan_send_until(c, &v, chan_now() + 500 * XB_MS), EPIPE);
	cr_assert_eq(chan_len(c), 3); /* none of 4, 5, 6 entered */
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_array, recv_after_disconnect)
{
	chan_t *c = chan_new(sizeof(int), 100);
	for (int i = 1; i <= 3; i++)
		cr_assert_eq(xb_send_int(c, i), 0);
	cr_assert_eq(chan_close(c), 0); /* drop(s) */
	cr_assert_eq(xb_recv_int(c), 1);
	cr_assert_eq(xb_recv_int(c), 2);
	cr_assert_eq(xb_recv_int(c), 3);
	cr_assert_eq(xb_recv_int(c), -999);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- len ---- */
#define LEN_COUNT 25000
#define LEN_CAP 1000
static void *len_r(void *p)
{
	chan_t *c = p;
	for (int i = 0; i < LEN_COUNT; i++) {
		XB_CHECK(xb_recv_int(c) == i);
		XB_CHECK(chan_len(c) <= LEN_CAP);
	}
	return NULL;
}
static void *len_s(void *p)
{
	chan_t *c = p;
	for (int i = 0; i < LEN_COUNT; i++) {
		XB_CHECK(xb_send_int(c, i) == 0);
		XB_CHECK(chan_len(c) <= LEN_CAP);
	}
	return NULL;
}
Test(xb_array, len, .timeout = 120)
{
	chan_t *c = chan_new(sizeof(int), LEN_CAP);
	cr_assert_eq(chan_len(c), 0);
	for (int k = 0; k < LEN_CAP / 10; k++) {
		for (int i = 0; i < 50; i++) {
			cr_assert_eq(xb_send_int(c, i), 0);
			cr_assert_eq(chan_len(c), (size_t)i + 1);
		}
		for (int i = 0; i < 50; i++) {
			cr_assert_eq(chan_recv(c, NULL, NULL), 0);
			cr_assert_eq(chan_len(c), (size_t)(50 - i - 1));
		}
	}
	cr_assert_eq(chan_len(c), 0);
	for (int i = 0; i < LEN_CAP; i++) {
		cr_assert_eq(xb_send_int(c, i), 0);
		cr_assert_eq(chan_len(c), (size_t)i + 1);
	}
	for (int i = 0; i < LEN_CAP; i++)
		cr_assert_eq(chan_recv(c, NULL, NULL), 0);
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
	XB_CHECK(xb_send_int(d->c, 0) == 0);
	tu_about_to_block(&d->blk);
	XB_CHECK(xb_send_int(d->c, 0) == EPIPE);
	return NULL;
}
static void *wakes_receiver(void *p)
{
	struct duo *d = p;
	tu_about_to_block(&d->blk);
	XB_CHECK(xb_recv_int(d->c) == -999);
	return NULL;
}
static void *wakes_closer(void *p)
{
	struct duo *d = p;
	XB_CHECK(xb_wait_blocked(&d->blk, TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(chan_close(d->c) == 0);
	return NULL;
}
Test(xb_array, disconnect_wakes_sender, .timeout = 60)
{
	struct duo d;
	duo_init(&d, 1);
	duo_run(&d, wakes_sender, wakes_closer);
}
Test(xb_array, disconnect_wakes_receiver, .timeout = 60)
{
	struct duo d;
	duo_init(&d, 1);
	duo_run(&d, wakes_receiver, wakes_closer);
}

/* ---- spsc ---- */
#define SPSC_COUNT 100000
static void *spsc_r(void *p)
{
	chan_t *c = p;
	for (int i = 0; i < SPSC_COUNT; i++)
		XB_CHECK(xb_recv_int(c) == i);
	XB_CHECK(xb_recv_int(c) == -999);
	return NULL;
}
static void *spsc_s(void *p)
{
	chan_t *c = p;
	for (int i = 0; i < SPSC_COUNT; i++)
		XB_CHECK(xb_send_int(c, i) == 0);
	XB_CHECK(chan_close(c) == 0); /* the sender is dropped at its end */
	return NULL;
}
Test(xb_array, spsc, .timeout = 120)
{
	chan_t *c = chan_new(sizeof(int), 3);
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
Test(xb_array, mpmc, .timeout = 240)
{
	struct mpmc *m = calloc(1, sizeof *m);
	m->c = chan_new(sizeof(int), 3);
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

/* ---- stress_oneshot ---- */
static void *oneshot_r(void *p)
{
	XB_CHECK(xb_recv_int(p) == 0);
	return NULL;
}
static void *oneshot_s(void *p)
{
	XB_CHECK(xb_send_int(p, 0) == 0);
	return NULL;
}
Test(xb_array, stress_oneshot, .timeout = 240)
{
	for (int i = 0; i < 10000; i++) {
		chan_t *c = chan_new(sizeof(int), 1);
		tu_go_t r = tu_spawn(oneshot_r, c), s = tu_spawn(oneshot_s, c);
		tu_join(r);
		tu_join(s);
		cr_assert_eq(chan_unref(c), 0);
	}
	XB_ASSERT_OK();
}

/* ---- stress_iter: request/response, try_iter and iter ---- */
#define ITER_COUNT 100000
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
		while (chan_try_recv(rr->resp, &x, &ok) == 0 && ok) { /* try_iter */
			count += x;
			if (count == ITER_COUNT)
				goto out;
		}
		XB_CHECK(chan_send(rr->req, NULL) == 0);
	}
out:
	/* Dropping both ends: the server's iter() ends, its send fails. */
	XB_CHECK(chan_close(rr->req) == 0);
	XB_CHECK(chan_close(rr->resp) == 0);
	return NULL;
}
Test(xb_array, stress_iter, .timeout = 240)
{
	struct reqresp rr = {chan_new(0, 1), chan_new(sizeof(int), 1)};
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

/* ---- stress_timeout_two_threads: timeouts that expire, retried ---- */
#define TT_COUNT 100
static void *tt_s(void *p)
{
	chan_t *c = p;
	for (int i = 0; i < TT_COUNT; i++) {
		if (i % 2 == 0)
			xb_sleep(5 * XB_MS); /* the test's subject: let timeouts expire */
		while (chan_send_until(c, &i, chan_now() + XB_MS) != 0)
			;
	}
	return NULL;
}
static void *tt_r(void *p)
{
	chan_t *c = p;
	for (int i = 0; i < TT_COUNT; i++) {
		if (i % 2 == 0)
			xb_sleep(5 * XB_MS);
		int x = -1;
		while (chan_recv_until(c, &x, NULL, chan_now() + XB_MS) != 0)
			;
		XB_CHECK(x == i);
	}
	return NULL;
}
Test(xb_array, stress_timeout_two_threads, .timeout = 120)
{
	chan_t *c = chan_new(sizeof(int), 2);
	tu_go_t s = tu_spawn(tt_s, c), r = tu_spawn(tt_r, c);
	tu_join(s);
	tu_join(r);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- drops, as counts: what was received, and what stays buffered ---- */
struct drops {
	chan_t *c;
	int steps;
};
static void *drops_r(void *p)
{
	struct drops *d = p;
	for (int i = 0; i < d->steps; i++)
		XB_CHECK(chan_recv(d->c, NULL, NULL) == 0);
	return NULL;
}
static void *drops_s(void *p)
{
	struct drops *d = p;
	for (int i = 0; i < d->steps; i++)
		XB_CHECK(xb_send_int(d->c, i) == 0);
	return NULL;
}
Test(xb_array, drops, .timeout = 240)
{
	unsigned seed = 12345;
	for (int run = 0; run < 100; run++) {
		struct drops d = {chan_new(sizeof(int), 50), rand_r(&seed) % 10000};
		int additional = rand_r(&seed) % 50;
		tu_go_t r = tu_spawn(drops_r, &d), s = tu_spawn(drops_s, &d);
		tu_join(r);
		tu_join(s);
		for (int i = 0; i < additional; i++)
			cr_assert_eq(xb_send_int(d.c, i), 0);
		cr_assert_eq(chan_len(d.c), (size_t)additional);
		cr_assert_eq(chan_unref(d.c), 0); /* frees the buffered values */
	}
	XB_ASSERT_OK();
}

/* ---- linearizable: after my send completes, a try_recv must find a value ---- */
#define LIN_COUNT 25000
#define LIN_THREADS 4
static void *lin_worker(void *p)
{
	chan_t *c = p;
	for (int i = 0; i < LIN_COUNT; i++) {
		XB_CHECK(xb_send_int(c, 0) == 0);
		int v;
		XB_CHECK(chan_try_recv(c, &v, NULL) == 0);
	}
	return NULL;
}
Test(xb_array, linearizable, .timeout = 240)
{
	chan_t *c = chan_new(sizeof(int), LIN_THREADS);
	tu_go_t t[LIN_THREADS];
	for (int i = 0; i < LIN_THREADS; i++)
		t[i] = tu_spawn(lin_worker, c);
	for (int i = 0; i < LIN_THREADS; i++)
		tu_join(t[i]);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- fairness of select ---- */
#define FAIR_COUNT 10000
Test(xb_array, fairness, .timeout = 60)
{
	chan_t *c1 = chan_new(0, FAIR_COUNT), *c2 = chan_new(0, FAIR_COUNT);
	for (int i = 0; i < FAIR_COUNT; i++) {
		cr_assert_eq(chan_send(c1, NULL), 0);
		cr_assert_eq(chan_send(c2, NULL), 0);
	}
	int hits[2] = {0, 0};
	for (int i = 0; i < FAIR_COUNT; i++) {
		int k = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c1, NULL, NULL),
				    CHAN_RECV(c2, NULL, NULL));
		cr_assert(k == 0 || k == 1);
		hits[k]++;
	}
	for (int i = 0; i < 2; i++)
		cr_assert_geq(hits[i], FAIR_COUNT / 2 / 2, "hits[%d] = %d", i, hits[i]);
	cr_assert_eq(chan_unref(c1), 0);
	cr_assert_eq(chan_unref(c2), 0);
}

Test(xb_array, fairness_duplicates, .timeout = 60)
{
	chan_t *c = chan_new(0, FAIR_COUNT);
	for (int i = 0; i < FAIR_COUNT; i++)
		cr_assert_eq(chan_send(c, NULL), 0);
	int hits[5] = {0};
	for (int i = 0; i < FAIR_COUNT; i++) {
		int k = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, NULL, NULL),
				    CHAN_RECV(c, NULL, NULL), CHAN_RECV(c, NULL, NULL),
				    CHAN_RECV(c, NULL, NULL), CHAN_RECV(c, NULL, NULL));
		cr_assert(k >= 0 && k < 5);
		hits[k]++;
	}
	for (int i = 0; i < 5; i++)
		cr_assert_geq(hits[i], FAIR_COUNT / 5 / 2, "hits[%d] = %d", i, hits[i]);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- recv_in_send: a send case's value is evaluated on entry ---- */
Test(xb_array, recv_in_send)
{
	chan_t *c = chan_new(0, 1);
	cr_assert_eq(chan_send(c, NULL), 0);
	/* Full: the send case is not ready, the default branch runs. */
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(c, (const void *)NULL, NULL)),
		     CHAN_DEFAULT);
	cr_assert_eq(chan_unref(c), 0);

	chan_t *s = chan_new(sizeof(int), 2);
	cr_assert_eq(xb_send_int(s, 1), 0);
	/* send(s, r.recv()): the value comes from a receive made on entry. */
	int v = xb_recv_int(s);
	cr_assert_eq(v, 1);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s, &v, NULL)), 0);
	cr_assert_eq(xb_recv_int(s), 1);
	cr_assert_eq(chan_unref(s), 0);
}

/* ---- channel_through_channel: each channel carries the next one ---- */
#define CTC_COUNT 1000
static void *ctc_sender(void *p)
{
	chan_t *s = p;
	for (int i = 0; i < CTC_COUNT; i++) {
		chan_t *next = chan_new(sizeof(chan_t *), 1);
		chan_t *give = chan_ref(next); /* the receiver's reference */
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
Test(xb_array, channel_through_channel, .timeout = 60)
{
	chan_t *c = chan_new(sizeof(chan_t *), 1);
	/* One reference each: the sender's (dropped as it moves on) and the
	 * receiver's. */
	tu_go_t s = tu_spawn(ctc_sender, chan_ref(c)), r = tu_spawn(ctc_receiver, c);
	tu_join(s);
	tu_join(r);
	XB_ASSERT_OK();
}
