/*
 * tests/test_xb_mpsc.c - crossbeam-channel's tests/mpsc.rs (Rust's
 * std::sync::mpsc tests run on crossbeam) ported as far as gochan has the
 * construct: its module sync_channel_tests, where sync_channel(n) is
 * crossbeam's bounded(n), i.e. chan_new(size, n).
 *
 * Mapping, Go's semantics where Rust's differ:
 *   drop(rx) (the receiver)       chan_close by the receiving side: a send
 *                                 then fails with EPIPE (a blocked one is
 *                                 woken), values buffered stay (no Drop in C)
 *   drop(tx) (the LAST sender)    chan_close.  Several senders (tx.clone())
 *                                 share a count; the last one to drop closes
 *                                 (struct senders below): Go's rule that
 *                                 only the last sender closes
 *   Err(RecvError), Disconnected  rc 0 with ok == false
 *   Empty / Full                  EAGAIN; Timeout: ETIMEDOUT
 *   thread::spawn                 tu_spawn (a thread, or a fiber), always
 *                                 joined (Rust detaches some; C joins them)
 *   Box<i32>                      an int (no heap payload to clean up)
 * stress_factor() is RUST_TEST_STRESS or 1; here 10.  Sleeps and
 * yield loops used to let a thread block are waits until it is parked.
 *
 * Ported (51): the whole of sync_channel_tests: smoke, drop_full,
 * smoke_shared, recv_timeout, smoke_threads, smoke_port_gone,
 * smoke_shared_port_gone2, port_gone_concurrent,
 * port_gone_concurrent_shared, smoke_chan_gone, smoke_chan_gone_shared,
 * chan_gone_concurrent, stress, stress_recv_timeout_two_threads,
 * stress_recv_timeout_shared, stress_shared, oneshot_single_thread_* (15),
 * oneshot_multi_task_recv_then_send, oneshot_multi_task_recv_then_close,
 * oneshot_multi_thread_close_stress, oneshot_multi_thread_send_close_stress,
 * oneshot_multi_thread_recv_close_stress,
 * oneshot_multi_thread_send_recv_stress, stream_send_recv_stress,
 * recv_a_lot, shared_chan_stress, test_nested_recv_iter,
 * test_recv_iter_break, try_recv_states,
 * destroy_upgraded_shared_port_when_sender_still_active, send1-send4,
 * try_send1-try_send3, issue_15761.
 * And module select_tests (24), all of it, as suite xb_mpsc_select below:
 * std's channel() there becomes a buffered channel with room for all the
 * test sends (a send never blocks, as on an unbounded channel).
 * Skipped: module channel_tests (52 tests): std's channel() is crossbeam's
 * unbounded() (the list flavor), and gochan has no unbounded channel; its
 * tests that also exist for sync_channel are covered above, and the rest
 * rely on sends that never block, however many.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_mpsc);

#define STRESS_FACTOR 10

static chan_t *sync_channel(size_t bound)
{
	return chan_new(sizeof(int), bound);
}

/* Senders sharing a channel: the last one dropped closes it. */
struct senders {
	chan_t *c;
	atomic_int n; /* live senders */
};
/* tx.clone() */
static struct senders *tx_clone(struct senders *s)
{
	atomic_fetch_add_explicit(&s->n, 1, memory_order_relaxed);
	return s;
}
/* drop(tx).  acq_rel: the last drop sees every other sender's sends done
 * before it closes (a send never races with the close that ends it). */
static void tx_drop(struct senders *s)
{
	if (atomic_fetch_sub_explicit(&s->n, 1, memory_order_acq_rel) == 1)
		XB_CHECK(chan_close(s->c) == 0);
}

static void unref(chan_t *c)
{
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_mpsc, smoke)
{
	chan_t *c = sync_channel(1);
	cr_assert_eq(xb_send_int(c, 1), 0);
	cr_assert_eq(xb_recv_int(c), 1);
	unref(c);
}

Test(xb_mpsc, drop_full)
{
	chan_t *c = sync_channel(1);
	cr_assert_eq(xb_send_int(c, 1), 0);
	unref(c); /* freed with a value in it */
}

Test(xb_mpsc, smoke_shared)
{
	struct senders s = {sync_channel(1), 1};
	cr_assert_eq(xb_send_int(s.c, 1), 0);
	cr_assert_eq(xb_recv_int(s.c), 1);
	tx_clone(&s);
	cr_assert_eq(xb_send_int(s.c, 1), 0);
	cr_assert_eq(xb_recv_int(s.c), 1);
	unref(s.c);
}

Test(xb_mpsc, recv_timeout)
{
	chan_t *c = sync_channel(1);
	int v;
	cr_assert_eq(chan_recv_until(c, &v, NULL, chan_now() + XB_MS), ETIMEDOUT);
	cr_assert_eq(xb_send_int(c, 1), 0);
	cr_assert_eq(chan_recv_until(c, &v, NULL, chan_now() + XB_MS), 0);
	cr_assert_eq(v, 1);
	unref(c);
}

static void *send_one(void *p)
{
	XB_CHECK(xb_send_int(p, 1) == 0);
	return NULL;
}

Test(xb_mpsc, smoke_threads, .timeout = 30)
{
	chan_t *c = sync_channel(0);
	tu_go_t t = tu_spawn(send_one, c);
	cr_assert_eq(xb_recv_int(c), 1);
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}

Test(xb_mpsc, smoke_port_gone)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_close(c), 0); /* drop(rx) */
	cr_assert_eq(xb_send_int(c, 1), EPIPE);
	unref(c);
}

Test(xb_mpsc, smoke_shared_port_gone2)
{
	struct senders s = {sync_channel(0), 1};
	cr_assert_eq(chan_close(s.c), 0); /* drop(rx) */
	tx_clone(&s);
	atomic_fetch_sub(&s.n, 1); /* drop(tx): tx2 remains */
	cr_assert_eq(xb_send_int(s.c, 1), EPIPE);
	unref(s.c);
}

/* The receiver takes one value and goes: the senders' loop ends. */
static void *recv_one_then_drop(void *p)
{
	XB_CHECK(xb_recv_int(p) == 1);
	XB_CHECK(chan_close(p) == 0); /* drop(rx) */
	return NULL;
}
Test(xb_mpsc, port_gone_concurrent, .timeout = 30)
{
	chan_t *c = sync_channel(0);
	tu_go_t t = tu_spawn(recv_one_then_drop, c);
	int sent = 0;
	while (xb_send_int(c, 1) == 0)
		sent++;
	cr_assert_eq(sent, 1);
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}
Test(xb_mpsc, port_gone_concurrent_shared, .timeout = 30)
{
	struct senders s = {sync_channel(0), 1};
	tx_clone(&s);
	tu_go_t t = tu_spawn(recv_one_then_drop, s.c);
	while (xb_send_int(s.c, 1) == 0 && xb_send_int(s.c, 1) == 0)
		;
	tu_join(t);
	XB_ASSERT_OK();
	unref(s.c);
}

Test(xb_mpsc, smoke_chan_gone)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_close(c), 0); /* drop(tx) */
	cr_assert_eq(xb_recv_int(c), -999);
	unref(c);
}

Test(xb_mpsc, smoke_chan_gone_shared)
{
	struct senders s = {chan_new(0, 0), 1};
	tx_clone(&s);
	tx_drop(&s);
	cr_assert_not(chan_is_closed(s.c), "one sender is left");
	tx_drop(&s);
	bool ok = true;
	cr_assert_eq(chan_recv(s.c, NULL, &ok), 0);
	cr_assert_not(ok);
	XB_ASSERT_OK();
	unref(s.c);
}

static void *send_two_then_drop(void *p)
{
	XB_CHECK(xb_send_int(p, 1) == 0);
	XB_CHECK(xb_send_int(p, 1) == 0);
	XB_CHECK(chan_close(p) == 0);
	return NULL;
}
Test(xb_mpsc, chan_gone_concurrent, .timeout = 30)
{
	chan_t *c = sync_channel(0);
	tu_go_t t = tu_spawn(send_two_then_drop, c);
	int got = 0;
	while (xb_recv_int(c) == 1)
		got++;
	cr_assert_eq(got, 2);
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}

#define N 10000
static void *send_n_then_drop(void *p)
{
	for (int i = 0; i < N; i++)
		XB_CHECK(xb_send_int(p, 1) == 0);
	XB_CHECK(chan_close(p) == 0);
	return NULL;
}
Test(xb_mpsc, stress, .timeout = 120)
{
	chan_t *c = sync_channel(0);
	tu_go_t t = tu_spawn(send_n_then_drop, c);
	for (int i = 0; i < N; i++)
		cr_assert_eq(xb_recv_int(c), 1);
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}

Test(xb_mpsc, stress_recv_timeout_two_threads, .timeout = 120)
{
	chan_t *c = sync_channel(0);
	tu_go_t t = tu_spawn(send_n_then_drop, c);
	int count = 0;
	for (;;) {
		int v = 0;
		bool ok = false;
		int rc = chan_recv_until(c, &v, &ok, chan_now() + XB_MS);
		if (rc == ETIMEDOUT)
			continue;
		cr_assert_eq(rc, 0);
		if (!ok)
			break; /* Disconnected */
		cr_assert_eq(v, 1);
		count++;
	}
	cr_assert_eq(count, N);
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}

/* ---- stress_recv_timeout_shared / stress_shared: 8 senders, 1 receiver ---- */
#define AMT 1000
#define NTHREADS 8
struct shared {
	struct senders tx;
	chan_t *done;
	bool with_timeout;
};
static void *shared_receiver(void *p)
{
	struct shared *s = p;
	int count = 0;
	if (s->with_timeout) {
		for (;;) {
			int v = 0;
			bool ok = false;
			int rc = chan_recv_until(s->tx.c, &v, &ok, chan_now() + 10 * XB_MS);
			if (rc == ETIMEDOUT)
				continue;
			XB_CHECK(rc == 0);
			if (rc || !ok)
				break;
			XB_CHECK(v == 1);
			count++;
		}
	} else {
		for (int i = 0; i < AMT * NTHREADS; i++)
			if (xb_recv_int(s->tx.c) == 1)
				count++;
	}
	XB_CHECK(count == AMT * NTHREADS);
	int v;
	bool ok = true;
	int rc = chan_try_recv(s->tx.c, &v, &ok);
	XB_CHECK(rc == EAGAIN || (rc == 0 && !ok)); /* try_recv().is_err() */
	XB_CHECK(chan_send(s->done, NULL) == 0);
	return NULL;
}
static void *shared_sender(void *p)
{
	struct shared *s = p;
	for (int i = 0; i < AMT; i++)
		XB_CHECK(xb_send_int(s->tx.c, 1) == 0);
	tx_drop(&s->tx);
	return NULL;
}
static void run_shared(bool with_timeout)
{
	struct shared s = {{sync_channel(0), 1}, chan_new(0, 0), with_timeout};
	tu_go_t r = tu_spawn(shared_receiver, &s), t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		tx_clone(&s.tx);
		t[i] = tu_spawn(shared_sender, &s);
	}
	tx_drop(&s.tx); /* drop(tx) */
	cr_assert_eq(chan_recv_until(s.done, NULL, NULL, chan_now() + XB_PATIENCE), 0);
	for (int i = 0; i < NTHREADS; i++)
		tu_join(t[i]);
	tu_join(r);
	XB_ASSERT_OK();
	unref(s.tx.c);
	unref(s.done);
}
Test(xb_mpsc, stress_recv_timeout_shared, .timeout = 120)
{
	run_shared(true);
}
Test(xb_mpsc, stress_shared, .timeout = 120)
{
	run_shared(false);
}

/* ---- oneshot_single_thread_* ---- */
Test(xb_mpsc, oneshot_single_thread_close_port_first)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_close(c), 0); /* drop(rx), tx still held */
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_close_chan_first)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_close(c), 0); /* drop(tx) */
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_send_port_close)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(xb_send_int(c, 0), EPIPE);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_recv_chan_close)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(xb_recv_int(c), -999);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_send_then_recv)
{
	chan_t *c = sync_channel(1);
	cr_assert_eq(xb_send_int(c, 10), 0);
	cr_assert_eq(xb_recv_int(c), 10);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_try_send_open)
{
	chan_t *c = sync_channel(1);
	int v = 10;
	cr_assert_eq(chan_try_send(c, &v), 0);
	cr_assert_eq(xb_recv_int(c), 10);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_try_send_closed)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_close(c), 0);
	int v = 10;
	cr_assert_eq(chan_try_send(c, &v), EPIPE);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_try_send_closed2)
{
	chan_t *c = sync_channel(0);
	int v = 10;
	cr_assert_eq(chan_try_send(c, &v), EAGAIN); /* Full: nobody receives */
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_try_recv_open)
{
	chan_t *c = sync_channel(1);
	cr_assert_eq(xb_send_int(c, 10), 0);
	cr_assert_eq(xb_recv_int(c), 10);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_try_recv_closed)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(xb_recv_int(c), -999);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_try_recv_closed_with_data)
{
	chan_t *c = sync_channel(1);
	cr_assert_eq(xb_send_int(c, 10), 0);
	cr_assert_eq(chan_close(c), 0);
	int v = 0;
	bool ok = false;
	cr_assert_eq(chan_try_recv(c, &v, &ok), 0);
	cr_assert(ok && v == 10);
	cr_assert_eq(chan_try_recv(c, &v, &ok), 0);
	cr_assert_not(ok);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_peek_data)
{
	chan_t *c = sync_channel(1);
	int v = 0;
	cr_assert_eq(chan_try_recv(c, &v, NULL), EAGAIN);
	cr_assert_eq(xb_send_int(c, 10), 0);
	cr_assert_eq(chan_try_recv(c, &v, NULL), 0);
	cr_assert_eq(v, 10);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_peek_close)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_close(c), 0);
	bool ok = true;
	cr_assert_eq(chan_try_recv(c, NULL, &ok), 0);
	cr_assert_not(ok);
	ok = true;
	cr_assert_eq(chan_try_recv(c, NULL, &ok), 0);
	cr_assert_not(ok);
	unref(c);
}
Test(xb_mpsc, oneshot_single_thread_peek_open)
{
	chan_t *c = sync_channel(0);
	cr_assert_eq(chan_try_recv(c, NULL, NULL), EAGAIN);
	unref(c);
}

static void *recv_ten(void *p)
{
	XB_CHECK(xb_recv_int(p) == 10);
	return NULL;
}
static void *send_ten(void *p)
{
	XB_CHECK(xb_send_int(p, 10) == 0);
	return NULL;
}
static void *drop_tx(void *p)
{
	XB_CHECK(chan_close(p) == 0);
	return NULL;
}
static void *recv_closed(void *p)
{
	XB_CHECK(xb_recv_int(p) == -999);
	return NULL;
}
static void *drop_rx(void *p)
{
	XB_CHECK(chan_close(p) == 0);
	return NULL;
}

Test(xb_mpsc, oneshot_multi_task_recv_then_send, .timeout = 30)
{
	chan_t *c = sync_channel(0);
	tu_go_t t = tu_spawn(recv_ten, c);
	cr_assert_eq(xb_send_int(c, 10), 0);
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}

Test(xb_mpsc, oneshot_multi_task_recv_then_close, .timeout = 30)
{
	chan_t *c = sync_channel(0);
	tu_go_t t = tu_spawn(drop_tx, c);
	tu_join(tu_spawn(recv_closed, c));
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}

Test(xb_mpsc, oneshot_multi_thread_close_stress, .timeout = 60)
{
	chan_t *cs[STRESS_FACTOR];
	tu_go_t ts[STRESS_FACTOR];
	for (int i = 0; i < STRESS_FACTOR; i++) {
		cs[i] = sync_channel(0);
		ts[i] = tu_spawn(drop_rx, cs[i]);
		/* drop(tx): the receiver's close already says it all in Go */
	}
	for (int i = 0; i < STRESS_FACTOR; i++) {
		tu_join(ts[i]);
		unref(cs[i]);
	}
	XB_ASSERT_OK();
}

static void *send_ignoring(void *p)
{
	int rc = xb_send_int(p, 1);
	XB_CHECK(rc == EPIPE); /* nobody ever receives: only the close ends it */
	return NULL;
}
Test(xb_mpsc, oneshot_multi_thread_send_close_stress, .timeout = 60)
{
	chan_t *cs[STRESS_FACTOR];
	tu_go_t ts[STRESS_FACTOR];
	for (int i = 0; i < STRESS_FACTOR; i++) {
		cs[i] = sync_channel(0);
		ts[i] = tu_spawn(drop_rx, cs[i]);
		tu_join(tu_spawn(send_ignoring, cs[i]));
	}
	for (int i = 0; i < STRESS_FACTOR; i++) {
		tu_join(ts[i]);
		unref(cs[i]);
	}
	XB_ASSERT_OK();
}

static void *recv_closed_nested(void *p)
{
	tu_join(tu_spawn(recv_closed, p));
	return NULL;
}
static void *drop_tx_nested(void *p)
{
	tu_join(tu_spawn(drop_tx, p)); /* Rust detaches it; C joins */
	return NULL;
}
Test(xb_mpsc, oneshot_multi_thread_recv_close_stress, .timeout = 60)
{
	chan_t *cs[STRESS_FACTOR];
	tu_go_t ts[2 * STRESS_FACTOR];
	for (int i = 0; i < STRESS_FACTOR; i++) {
		cs[i] = sync_channel(0);
		ts[2 * i] = tu_spawn(recv_closed_nested, cs[i]);
		ts[2 * i + 1] = tu_spawn(drop_tx_nested, cs[i]);
	}
	for (int i = 0; i < 2 * STRESS_FACTOR; i++)
		tu_join(ts[i]);
	for (int i = 0; i < STRESS_FACTOR; i++)
		unref(cs[i]);
	XB_ASSERT_OK();
}

Test(xb_mpsc, oneshot_multi_thread_send_recv_stress, .timeout = 60)
{
	chan_t *cs[STRESS_FACTOR];
	tu_go_t ts[STRESS_FACTOR];
	for (int i = 0; i < STRESS_FACTOR; i++) {
		cs[i] = sync_channel(0);
		ts[i] = tu_spawn(send_ten, cs[i]);
		cr_assert_eq(xb_recv_int(cs[i]), 10);
	}
	for (int i = 0; i < STRESS_FACTOR; i++) {
		tu_join(ts[i]);
		unref(cs[i]);
	}
	XB_ASSERT_OK();
}

/* stream_send_recv_stress: each goroutine sends (receives) value i, then
 * starts the next one for i + 1, up to 10. */
struct stream {
	chan_t *c;
	int i;
};
static void *stream_send(void *p)
{
	struct stream *s = p;
	if (s->i == 10)
		return NULL;
	XB_CHECK(xb_send_int(s->c, s->i) == 0);
	struct stream next = {s->c, s->i + 1};
	tu_join(tu_spawn(stream_send, &next));
	return NULL;
}
static void *stream_recv(void *p)
{
	struct stream *s = p;
	if (s->i == 10)
		return NULL;
	XB_CHECK(xb_recv_int(s->c) == s->i);
	struct stream next = {s->c, s->i + 1};
	tu_join(tu_spawn(stream_recv, &next));
	return NULL;
}
Test(xb_mpsc, stream_send_recv_stress, .timeout = 60)
{
	struct stream s[STRESS_FACTOR];
	tu_go_t ts[2 * STRESS_FACTOR];
	for (int i = 0; i < STRESS_FACTOR; i++) {
		s[i] = (struct stream){sync_channel(0), 0};
		ts[2 * i] = tu_spawn(stream_send, &s[i]);
		ts[2 * i + 1] = tu_spawn(stream_recv, &s[i]);
	}
	for (int i = 0; i < 2 * STRESS_FACTOR; i++)
		tu_join(ts[i]);
	for (int i = 0; i < STRESS_FACTOR; i++)
		unref(s[i].c);
	XB_ASSERT_OK();
}

Test(xb_mpsc, recv_a_lot, .timeout = 30)
{
	chan_t *c = chan_new(0, N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(chan_send(c, NULL), 0);
	for (int i = 0; i < N; i++)
		cr_assert_eq(chan_recv(c, NULL, NULL), 0);
	unref(c);
}

static void *send_unit(void *p)
{
	XB_CHECK(chan_send(p, NULL) == 0);
	return NULL;
}
Test(xb_mpsc, shared_chan_stress, .timeout = 60)
{
	enum {
		TOTAL = STRESS_FACTOR + 100
	};
	chan_t *c = chan_new(0, 0);
	tu_go_t ts[TOTAL];
	for (int i = 0; i < TOTAL; i++)
		ts[i] = tu_spawn(send_unit, c);
	for (int i = 0; i < TOTAL; i++)
		cr_assert_eq(chan_recv(c, NULL, NULL), 0);
	for (int i = 0; i < TOTAL; i++)
		tu_join(ts[i]);
	XB_ASSERT_OK();
	unref(c);
}

struct pair {
	chan_t *in, *out;
};
static void *summer(void *p)
{
	struct pair *q = p;
	int acc = 0, x;
	CHAN_RANGE(q->in, &x)
		acc += x;
	XB_CHECK(xb_send_int(q->out, acc) == 0);
	return NULL;
}
Test(xb_mpsc, test_nested_recv_iter, .timeout = 30)
{
	struct pair q = {sync_channel(0), sync_channel(0)};
	tu_go_t t = tu_spawn(summer, &q);
	cr_assert_eq(xb_send_int(q.in, 3), 0);
	cr_assert_eq(xb_send_int(q.in, 1), 0);
	cr_assert_eq(xb_send_int(q.in, 2), 0);
	cr_assert_eq(chan_close(q.in), 0);
	cr_assert_eq(xb_recv_int(q.out), 6);
	tu_join(t);
	XB_ASSERT_OK();
	unref(q.in);
	unref(q.out);
}

static void *breaker(void *p)
{
	struct pair *q = p;
	int count = 0, x;
	CHAN_RANGE(q->in, &x) {
		if (count >= 3)
			break;
		count += x;
	}
	XB_CHECK(xb_send_int(q->out, count) == 0);
	return NULL;
}
Test(xb_mpsc, test_recv_iter_break, .timeout = 30)
{
	struct pair q = {sync_channel(0), sync_channel(0)};
	tu_go_t t = tu_spawn(breaker, &q);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(xb_send_int(q.in, 2), 0);
	int two = 2;
	(void)chan_try_send(q.in, &two); /* let _ = tx.try_send(2) */
	cr_assert_eq(chan_close(q.in), 0);
	cr_assert_eq(xb_recv_int(q.out), 4);
	tu_join(t);
	XB_ASSERT_OK();
	unref(q.in);
	unref(q.out);
}

struct states {
	chan_t *c1, *c2, *c3;
};
static void *states_peer(void *p)
{
	struct states *s = p;
	XB_CHECK(chan_recv(s->c2, NULL, NULL) == 0);
	XB_CHECK(xb_send_int(s->c1, 1) == 0);
	XB_CHECK(chan_send(s->c3, NULL) == 0);
	XB_CHECK(chan_recv(s->c2, NULL, NULL) == 0);
	XB_CHECK(chan_close(s->c1) == 0); /* drop(tx1) */
	XB_CHECK(chan_send(s->c3, NULL) == 0);
	return NULL;
}
Test(xb_mpsc, try_recv_states, .timeout = 30)
{
	struct states s = {sync_channel(1), chan_new(0, 1), chan_new(0, 1)};
	tu_go_t t = tu_spawn(states_peer, &s);
	int v = 0;
	bool ok;
	cr_assert_eq(chan_try_recv(s.c1, &v, &ok), EAGAIN);
	cr_assert_eq(chan_send(s.c2, NULL), 0);
	cr_assert_eq(chan_recv(s.c3, NULL, NULL), 0);
	cr_assert_eq(chan_try_recv(s.c1, &v, &ok), 0);
	cr_assert(ok && v == 1);
	cr_assert_eq(chan_try_recv(s.c1, &v, &ok), EAGAIN);
	cr_assert_eq(chan_send(s.c2, NULL), 0);
	cr_assert_eq(chan_recv(s.c3, NULL, NULL), 0);
	cr_assert_eq(chan_try_recv(s.c1, &v, &ok), 0);
	cr_assert_not(ok); /* Disconnected */
	tu_join(t);
	XB_ASSERT_OK();
	unref(s.c1);
	unref(s.c2);
	unref(s.c3);
}

struct upgraded {
	chan_t *c, *c2;
	tu_blocker_t blk;
};
static void *upgraded_peer(void *p)
{
	struct upgraded *u = p;
	tu_about_to_block(&u->blk);
	XB_CHECK(chan_recv(u->c, NULL, NULL) == 0); /* wait on a oneshot */
	XB_CHECK(chan_close(u->c) == 0);            /* drop(rx) */
	XB_CHECK(chan_send(u->c2, NULL) == 0);
	return NULL;
}
Test(xb_mpsc, destroy_upgraded_shared_port_when_sender_still_active, .timeout = 30)
{
	struct upgraded u = {chan_new(0, 0), chan_new(0, 0), TU_BLOCKER_INIT};
	tu_go_t t = tu_spawn(upgraded_peer, &u);
	/* make sure the other goroutine has gone to sleep */
	cr_assert(xb_wait_blocked(&u.blk, TU_BLOCK_TIMEOUT_NS));
	chan_t *tx2 = chan_ref(u.c); /* tx.clone(), then drop(tx) */
	cr_assert_eq(chan_send(tx2, NULL), 0);
	cr_assert_eq(chan_unref(tx2), 0);
	cr_assert_eq(chan_recv(u.c2, NULL, NULL), 0);
	tu_join(t);
	XB_ASSERT_OK();
	unref(u.c);
	unref(u.c2);
}

static void *recv_any(void *p)
{
	XB_CHECK(xb_recv_int(p) >= 0);
	return NULL;
}
Test(xb_mpsc, send1, .timeout = 30)
{
	chan_t *c = sync_channel(0);
	tu_go_t t = tu_spawn(recv_any, c);
	cr_assert_eq(xb_send_int(c, 1), 0);
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}
Test(xb_mpsc, send2, .timeout = 30)
{
	chan_t *c = sync_channel(0);
	tu_go_t t = tu_spawn(drop_rx, c);
	cr_assert_eq(xb_send_int(c, 1), EPIPE); /* nobody receives: only the close ends it */
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}
Test(xb_mpsc, send3, .timeout = 30)
{
	chan_t *c = sync_channel(1);
	cr_assert_eq(xb_send_int(c, 1), 0);
	tu_go_t t = tu_spawn(drop_rx, c);
	cr_assert_eq(xb_send_int(c, 1), EPIPE); /* full, then closed */
	tu_join(t);
	XB_ASSERT_OK();
	unref(c);
}

struct send4 {
	chan_t *c, *done;
	int v;
};
static void *send4_sender(void *p)
{
	struct send4 *s = p;
	XB_CHECK(xb_send_int(s->c, s->v) == EPIPE);
	XB_CHECK(chan_send(s->done, NULL) == 0);
	return NULL;
}
Test(xb_mpsc, send4, .timeout = 30)
{
	chan_t *c = sync_channel(0), *done = chan_new(0, 2);
	struct send4 a = {c, done, 1}, b = {c, done, 2};
	tu_go_t t = tu_spawn(send4_sender, &a), t2 = tu_spawn(send4_sender, &b);
	cr_assert_eq(chan_close(c), 0); /* drop(rx) */
	cr_assert_eq(chan_recv(done, NULL, NULL), 0);
	cr_assert_eq(chan_recv(done, NULL, NULL), 0);
	tu_join(t);
	tu_join(t2);
	XB_ASSERT_OK();
	unref(c);
	unref(done);
}

Test(xb_mpsc, try_send1)
{
	chan_t *c = sync_channel(0);
	int v = 1;
	cr_assert_eq(chan_try_send(c, &v), EAGAIN);
	unref(c);
}
Test(xb_mpsc, try_send2)
{
	chan_t *c = sync_channel(1);
	int v = 1;
	cr_assert_eq(chan_try_send(c, &v), 0);
	cr_assert_eq(chan_try_send(c, &v), EAGAIN);
	unref(c);
}
Test(xb_mpsc, try_send3)
{
	chan_t *c = sync_channel(1);
	int v = 1;
	cr_assert_eq(chan_try_send(c, &v), 0);
	cr_assert_eq(chan_close(c), 0); /* drop(rx) */
	cr_assert_eq(chan_try_send(c, &v), EPIPE);
	unref(c);
}

static void *issue_15761_peer(void *p)
{
	struct pair *q = p;
	XB_CHECK(chan_recv(q->in, NULL, NULL) == 0);
	XB_CHECK(chan_try_send(q->out, NULL) == 0);
	return NULL;
}
Test(xb_mpsc, issue_15761, .timeout = 60)
{
	for (int i = 0; i < 100; i++) {
		struct pair q = {chan_new(0, 3), chan_new(0, 3)};
		tu_go_t t = tu_spawn(issue_15761_peer, &q);
		cr_assert_eq(chan_try_send(q.in, NULL), 0);
		cr_assert_eq(chan_recv(q.out, NULL, NULL), 0);
		tu_join(t);
		unref(q.in);
		unref(q.out);
	}
	XB_ASSERT_OK();
}

/* ======================= module select_tests =======================
 * std's select! over channel() (unbounded): a buffered channel with room
 * for everything these tests send (ROOM), so a send never blocks here
 * either.  The threads' yield loops "to let the other side block" are
 * waits until it is parked (xb_wait_blocked). */
TU_LEAK_CHECKED_SUITE(xb_mpsc_select);

#define ROOM 64

static chan_t *channel(void)
{
	return chan_new(sizeof(int), ROOM);
}

/* select { a = rx1.recv() => ..., b = rx2.recv() => ... } as (index, value,
 * ok); -1000 + k for a select that returned k. */
static int sel2(chan_t *c1, chan_t *c2, int *v, bool *ok, int64_t deadline)
{
	return CHAN_SELECT(deadline, CHAN_RECV(c1, v, ok), CHAN_RECV(c2, v, ok));
}

Test(xb_mpsc_select, smoke)
{
	chan_t *c1 = channel(), *c2 = channel();
	int v = 0;
	bool ok = false;
	cr_assert_eq(xb_send_int(c1, 1), 0);
	cr_assert_eq(sel2(c1, c2, &v, &ok, CHAN_FOREVER), 0);
	cr_assert(ok && v == 1);
	cr_assert_eq(xb_send_int(c2, 2), 0);
	cr_assert_eq(sel2(c1, c2, &v, &ok, CHAN_FOREVER), 1);
	cr_assert(ok && v == 2);
	cr_assert_eq(chan_close(c1), 0); /* drop(tx1) */
	cr_assert_eq(sel2(c1, c2, &v, &ok, CHAN_FOREVER), 0);
	cr_assert_not(ok);
	cr_assert_eq(chan_close(c2), 0); /* drop(tx2) */
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c2, &v, &ok)), 0);
	cr_assert_not(ok);
	unref(c1);
	unref(c2);
}

Test(xb_mpsc_select, smoke2)
{
	chan_t *c[5];
	for (int i = 0; i < 5; i++)
		c[i] = channel();
	int v = 0;
	bool ok = false;
	cr_assert_eq(xb_send_int(c[4], 4), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c[0], &v, &ok), CHAN_RECV(c[1], &v, &ok),
				 CHAN_RECV(c[2], &v, &ok), CHAN_RECV(c[3], &v, &ok),
				 CHAN_RECV(c[4], &v, &ok)),
		     4);
	cr_assert(ok && v == 4);
	for (int i = 0; i < 5; i++)
		unref(c[i]);
}

Test(xb_mpsc_select, closed)
{
	chan_t *c1 = channel(), *c2 = channel();
	int v = 0;
	bool ok = true;
	cr_assert_eq(chan_close(c2), 0); /* drop(tx2) */
	cr_assert_eq(sel2(c1, c2, &v, &ok, CHAN_FOREVER), 1);
	cr_assert_not(ok);
	unref(c1);
	unref(c2);
}

struct unblocks {
	chan_t *c1, *c3;
	tu_blocker_t blk;
};
static void *unblocks_peer(void *p)
{
	struct unblocks *u = p;
	XB_CHECK(xb_wait_blocked(&u->blk, TU_BLOCK_TIMEOUT_NS)); /* 20 yields */
	XB_CHECK(xb_send_int(u->c1, 1) == 0);
	XB_CHECK(xb_recv_int(u->c3) == 1);
	XB_CHECK(chan_close(u->c1) == 0); /* the thread's tx1 is dropped */
	return NULL;
}
Test(xb_mpsc_select, unblocks, .timeout = 30)
{
	struct unblocks u = {channel(), channel(), TU_BLOCKER_INIT};
	chan_t *c2 = channel();
	int v = 0;
	bool ok = false;
	tu_go_t t = tu_spawn(unblocks_peer, &u);
	tu_about_to_block(&u.blk);
	cr_assert_eq(sel2(u.c1, c2, &v, &ok, chan_now() + XB_PATIENCE), 0);
	cr_assert(ok && v == 1);
	cr_assert_eq(xb_send_int(u.c3, 1), 0);
	cr_assert_eq(sel2(u.c1, c2, &v, &ok, chan_now() + XB_PATIENCE), 0);
	cr_assert_not(ok);
	tu_join(t);
	XB_ASSERT_OK();
	unref(u.c1);
	unref(c2);
	unref(u.c3);
}

struct three {
	chan_t *c1, *c2, *c3;
	tu_blocker_t blk;
};
static void *both_ready_peer(void *p)
{
	struct three *t = p;
	XB_CHECK(xb_wait_blocked(&t->blk, TU_BLOCK_TIMEOUT_NS));
	XB_CHECK(xb_send_int(t->c1, 1) == 0);
	XB_CHECK(xb_send_int(t->c2, 2) == 0);
	XB_CHECK(chan_recv(t->c3, NULL, NULL) == 0);
	return NULL;
}
Test(xb_mpsc_select, both_ready, .timeout = 30)
{
	struct three t = {channel(), channel(), chan_new(0, ROOM), TU_BLOCKER_INIT};
	tu_go_t g = tu_spawn(both_ready_peer, &t);
	bool got[2] = {false, false};
	for (int i = 0; i < 2; i++) {
		int v = 0;
		bool ok = false;
		if (i == 0)
			tu_about_to_block(&t.blk);
		int k = sel2(t.c1, t.c2, &v, &ok, chan_now() + XB_PATIENCE);
		cr_assert((k == 0 && v == 1) || (k == 1 && v == 2), "k %d v %d", k, v);
		cr_assert(ok && !got[k]);
		got[k] = true;
	}
	int v;
	cr_assert_eq(chan_try_recv(t.c1, &v, NULL), EAGAIN);
	cr_assert_eq(chan_try_recv(t.c2, &v, NULL), EAGAIN);
	cr_assert_eq(chan_send(t.c3, NULL), 0);
	tu_join(g);
	XB_ASSERT_OK();
	unref(t.c1);
	unref(t.c2);
	unref(t.c3);
}

#define SEL_AMT 10000
static void *select_stress_peer(void *p)
{
	struct three *t = p;
	for (int i = 0; i < SEL_AMT; i++) {
		XB_CHECK(xb_send_int(i % 2 == 0 ? t->c1 : t->c2, i) == 0);
		XB_CHECK(chan_recv(t->c3, NULL, NULL) == 0);
	}
	return NULL;
}
Test(xb_mpsc_select, stress, .timeout = 120)
{
	struct three t = {channel(), channel(), chan_new(0, ROOM), TU_BLOCKER_INIT};
	tu_go_t g = tu_spawn(select_stress_peer, &t);
	for (int i = 0; i < SEL_AMT; i++) {
		int v = -1;
		bool ok = false;
		int k = sel2(t.c1, t.c2, &v, &ok, chan_now() + XB_PATIENCE);
		cr_assert(ok && v == i && k == i % 2, "i %d: k %d v %d", i, k, v);
		cr_assert_eq(chan_send(t.c3, NULL), 0);
	}
	tu_join(g);
	XB_ASSERT_OK();
	unref(t.c1);
	unref(t.c2);
	unref(t.c3);
}

/* cloning, cloning2 (the same test in std): a clone made and dropped is
 * not a disconnection. */
static void *select_cloning_peer(void *p)
{
	struct three *t = p;
	XB_CHECK(chan_recv(t->c3, NULL, NULL) == 0);
	XB_CHECK(chan_unref(chan_ref(t->c1)) == 0); /* tx1.clone(), dropped */
	XB_CHECK(chan_try_recv(t->c3, NULL, NULL) == EAGAIN);
	XB_CHECK(xb_send_int(t->c1, 2) == 0);
	XB_CHECK(chan_recv(t->c3, NULL, NULL) == 0);
	return NULL;
}
static void run_select_cloning(void)
{
	struct three t = {channel(), channel(), chan_new(0, ROOM), TU_BLOCKER_INIT};
	tu_go_t g = tu_spawn(select_cloning_peer, &t);
	int v = 0;
	bool ok = false;
	cr_assert_eq(chan_send(t.c3, NULL), 0);
	cr_assert_eq(sel2(t.c1, t.c2, &v, &ok, chan_now() + XB_PATIENCE), 0);
	cr_assert(ok && v == 2);
	cr_assert_eq(chan_send(t.c3, NULL), 0);
	tu_join(g);
	XB_ASSERT_OK();
	unref(t.c1);
	unref(t.c2);
	unref(t.c3);
}
Test(xb_mpsc_select, cloning, .timeout = 30)
{
	run_select_cloning();
}
Test(xb_mpsc_select, cloning2, .timeout = 30)
{
	run_select_cloning();
}

static void *cloning3_peer(void *p)
{
	struct three *t = p;
	bool ok = false;
	tu_about_to_block(&t->blk);
	int k = CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(t->c1, NULL, &ok),
			    CHAN_RECV(t->c2, NULL, &ok));
	XB_CHECK(k == 1 && ok);
	XB_CHECK(chan_send(t->c3, NULL) == 0);
	return NULL;
}
Test(xb_mpsc_select, cloning3, .timeout = 30)
{
	struct three t = {chan_new(0, ROOM), chan_new(0, ROOM), chan_new(0, ROOM), TU_BLOCKER_INIT};
	tu_go_t g = tu_spawn(cloning3_peer, &t);
	cr_assert(xb_wait_blocked(&t.blk, TU_BLOCK_TIMEOUT_NS)); /* 1000 yields */
	cr_assert_eq(chan_unref(chan_ref(t.c1)), 0);             /* drop(tx1.clone()) */
	cr_assert_eq(chan_send(t.c2, NULL), 0);
	cr_assert_eq(chan_recv(t.c3, NULL, NULL), 0);
	tu_join(g);
	XB_ASSERT_OK();
	unref(t.c1);
	unref(t.c2);
	unref(t.c3);
}

/* preflight1-9: a one-case select on a channel that is ready before it
 * starts (values, a dropped clone, a disconnection). */
static void preflight(int sends, bool clone_dropped, bool drop_tx, int recvs_before, bool want_ok)
{
	chan_t *c = chan_new(0, ROOM);
	if (clone_dropped)
		cr_assert_eq(chan_unref(chan_ref(c)), 0);
	for (int i = 0; i < sends; i++)
		cr_assert_eq(chan_send(c, NULL), 0);
	if (drop_tx)
		cr_assert_eq(chan_close(c), 0);
	for (int i = 0; i < recvs_before; i++)
		cr_assert_eq(chan_recv(c, NULL, NULL), 0);
	bool ok = !want_ok;
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, NULL, &ok)), 0);
	cr_assert_eq(ok, want_ok);
	unref(c);
}
Test(xb_mpsc_select, preflight1)
{
	preflight(1, false, false, 0, true);
}
Test(xb_mpsc_select, preflight2)
{
	preflight(2, false, false, 0, true);
}
Test(xb_mpsc_select, preflight3)
{
	preflight(1, true, false, 0, true);
}
Test(xb_mpsc_select, preflight4)
{
	preflight(1, false, false, 0, true);
}
Test(xb_mpsc_select, preflight5)
{
	preflight(2, false, false, 0, true);
}
Test(xb_mpsc_select, preflight6)
{
	preflight(1, true, false, 0, true);
}
Test(xb_mpsc_select, preflight7)
{
	preflight(0, false, true, 0, false);
}
Test(xb_mpsc_select, preflight8)
{
	preflight(1, false, true, 1, false);
}
Test(xb_mpsc_select, preflight9)
{
	preflight(1, true, true, 1, false);
}

/* oneshot/stream/shared_data_waiting: a parked one-case select is woken by
 * a send (after 0, 2 or 1 earlier values went through the channel). */
struct waiting {
	chan_t *c1, *c2;
	tu_blocker_t blk;
};
static void *waiting_peer(void *p)
{
	struct waiting *w = p;
	bool ok = false;
	tu_about_to_block(&w->blk);
	XB_CHECK(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(w->c1, NULL, &ok)) == 0 && ok);
	XB_CHECK(chan_send(w->c2, NULL) == 0);
	return NULL;
}
static void run_waiting(int earlier, bool clone_dropped)
{
	struct waiting w = {chan_new(0, ROOM), chan_new(0, ROOM), TU_BLOCKER_INIT};
	if (clone_dropped)
		cr_assert_eq(chan_unref(chan_ref(w.c1)), 0);
	for (int i = 0; i < earlier; i++)
		cr_assert_eq(chan_send(w.c1, NULL), 0);
	for (int i = 0; i < earlier; i++)
		cr_assert_eq(chan_recv(w.c1, NULL, NULL), 0);
	tu_go_t g = tu_spawn(waiting_peer, &w);
	cr_assert(xb_wait_blocked(&w.blk, TU_BLOCK_TIMEOUT_NS)); /* 100 yields */
	cr_assert_eq(chan_send(w.c1, NULL), 0);
	cr_assert_eq(chan_recv(w.c2, NULL, NULL), 0);
	tu_join(g);
	XB_ASSERT_OK();
	unref(w.c1);
	unref(w.c2);
}
Test(xb_mpsc_select, oneshot_data_waiting, .timeout = 30)
{
	run_waiting(0, false);
}
Test(xb_mpsc_select, stream_data_waiting, .timeout = 30)
{
	run_waiting(2, false);
}
Test(xb_mpsc_select, shared_data_waiting, .timeout = 30)
{
	run_waiting(1, true);
}

Test(xb_mpsc_select, sync1)
{
	chan_t *c = sync_channel(1);
	int v = 0;
	cr_assert_eq(xb_send_int(c, 1), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, &v, NULL)), 0);
	cr_assert_eq(v, 1);
	unref(c);
}

struct sync2 {
	chan_t *c;
	tu_blocker_t blk;
};
static void *sync2_peer(void *p)
{
	struct sync2 *s = p;
	XB_CHECK(xb_wait_blocked(&s->blk, TU_BLOCK_TIMEOUT_NS)); /* 100 yields */
	XB_CHECK(xb_send_int(s->c, 1) == 0);
	return NULL;
}
Test(xb_mpsc_select, sync2, .timeout = 30)
{
	struct sync2 s = {sync_channel(0), TU_BLOCKER_INIT};
	tu_go_t g = tu_spawn(sync2_peer, &s);
	int v = 0;
	tu_about_to_block(&s.blk);
	cr_assert_eq(CHAN_SELECT(chan_now() + XB_PATIENCE, CHAN_RECV(s.c, &v, NULL)), 0);
	cr_assert_eq(v, 1);
	tu_join(g);
	XB_ASSERT_OK();
	unref(s.c);
}

static void *send_two(void *p)
{
	XB_CHECK(xb_send_int(p, 2) == 0);
	return NULL;
}
Test(xb_mpsc_select, sync3, .timeout = 30)
{
	chan_t *c1 = sync_channel(0), *c2 = channel();
	tu_go_t t = tu_spawn(send_one, c1), t2 = tu_spawn(send_two, c2);
	int v = 0;
	bool ok = false;
	switch (sel2(c1, c2, &v, &ok, chan_now() + XB_PATIENCE)) {
	case 0:
		cr_assert(ok && v == 1);
		cr_assert_eq(xb_recv_int(c2), 2);
		break;
	case 1:
		cr_assert(ok && v == 2);
		cr_assert_eq(xb_recv_int(c1), 1);
		break;
	default:
		cr_assert_fail("no case fired");
	}
	tu_join(t);
	tu_join(t2);
	XB_ASSERT_OK();
	unref(c1);
	unref(c2);
}
