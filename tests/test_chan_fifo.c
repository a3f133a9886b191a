/*
 * tests/test_chan_fifo.c - ordering: the buffer, blocked senders and blocked
 * receivers are each FIFO; a sender hands its value straight to a waiting
 * receiver; a receiver that frees a slot of a full buffer moves the first
 * blocked sender's value into the tail (gochan/chan.h "Fairness").
 *
 * "Blocked" is established, not assumed: each thread announces itself and the
 * test waits until it is parked (tests/testutil.h) before starting the next.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>

#include "test_chan_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(chan_fifo);

#define K 8 /* threads queued per round */

/* Start K threads running fn (on values base + i) one at a time, each
 * parked before the next. */
static void start_queued(tu_go_t *th, struct op *a, chan_t *c, void *(*fn)(void *), int base)
{
	for (int i = 0; i < K; i++)
		a[i] = (struct op){.c = c, .value = base + i, .rc = -1};
	start_parked(th, a, K, fn);
}

Test(chan_fifo, buffer_fifo, .timeout = 5)
{
	const int n = 1000;
	chan_t *c = chan_new(sizeof(int), (size_t)n);
	for (int i = 0; i < n; i++)
		cr_assert_eq(chan_send(c, &i), 0);
	for (int i = 0; i < n; i++) {
		int v = -1;
		cr_assert_eq(chan_recv(c, &v, NULL), 0);
		cr_assert_eq(v, i);
	}
	cr_assert_eq(chan_unref(c), 0);
}

/* Receivers blocked on an empty channel are served in arrival order. */
static void blocked_receivers_fifo(size_t cap)
{
	for (int round = 0; round < 5; round++) {
		chan_t *c = chan_new(sizeof(int), cap);
		tu_go_t th[K];
		struct op a[K];
		start_queued(th, a, c, op_recv, -1000);
		for (int i = 0; i < K; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		for (int i = 0; i < K; i++) {
			tu_join(th[i]);
			cr_assert_eq(a[i].rc, 0);
			cr_assert(a[i].ok);
			cr_assert_eq(a[i].value, i, "cap %zu: receiver %d got %d", cap, i,
				     a[i].value);
		}
		cr_assert_eq(chan_len(c), 0);
		cr_assert_eq(chan_unref(c), 0);
	}
}
Test(chan_fifo, blocked_receivers_unbuffered, .timeout = 20)
{
	blocked_receivers_fifo(0);
}
Test(chan_fifo, blocked_receivers_buffered, .timeout = 20)
{
	blocked_receivers_fifo(3);
}

/* Senders blocked on an unbuffered channel are served in arrival order. */
Test(chan_fifo, blocked_senders_unbuffered, .timeout = 20)
{
	for (int round = 0; round < 5; round++) {
		chan_t *c = chan_new(sizeof(int), 0);
		tu_go_t th[K];
		struct op a[K];
		start_queued(th, a, c, op_send, 0);
		for (int i = 0; i < K; i++) {
			int v = -1;
			bool ok = false;
			cr_assert_eq(chan_recv(c, &v, &ok), 0);
			cr_assert(ok);
			cr_assert_eq(v, i, "round %d: expected %d got %d", round, i, v);
		}
		for (int i = 0; i < K; i++) {
			tu_join(th[i]);
			cr_assert_eq(a[i].rc, 0);
		}
		cr_assert_eq(chan_unref(c), 0);
	}
}

/*
 * Full buffer plus blocked senders: the buffered values come first, then the
 * senders' values in arrival order; each receive that frees a slot moves the
 * first blocked sender's value into the tail at once (len stays == cap).
 */
Test(chan_fifo, full_buffer_then_blocked_senders, .timeout = 20)
{
	const size_t cap = 3;
	for (int round = 0; round < 5; round++) {
		chan_t *c = chan_new(sizeof(int), cap);
		for (int i = 0; i < (int)cap; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		tu_go_t th[K];
		struct op a[K];
		start_queued(th, a, c, op_send, (int)cap);
		for (int i = 0; i < (int)cap + K; i++) {
			int v = -1;
			cr_assert_eq(chan_recv(c, &v, NULL), 0);
			cr_assert_eq(v, i, "round %d: expected %d got %d", round, i, v);
			/* The receive itself refilled the tail from the first
			 * blocked sender while more senders were waiting. */
			size_t want = i < K ? cap : cap + K - 1 - (size_t)i;
			cr_assert_eq(chan_len(c), want, "after receive %d: len %zu, want %zu", i,
				     chan_len(c), want);
		}
		for (int i = 0; i < K; i++) {
			tu_join(th[i]);
			cr_assert_eq(a[i].rc, 0);
		}
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* A non-blocking send succeeds when a receiver is waiting, even unbuffered. */
Test(chan_fifo, try_send_to_waiting_receiver, .timeout = 10)
{
	for (int round = 0; round < 20; round++) {
		chan_t *c = chan_new(sizeof(int), 0);
		struct op a = {.c = c, .value = -1, .rc = -1};
		tu_go_t th = tu_spawn(op_recv, &a);
		cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
		int v = 1234 + round;
		cr_assert_eq(chan_try_send(c, &v), 0);
		tu_join(th);
		cr_assert_eq(a.rc, 0);
		cr_assert(a.ok);
		cr_assert_eq(a.value, v);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* A non-blocking receive takes a blocked sender's value on an unbuffered channel. */
Test(chan_fifo, try_recv_from_waiting_sender, .timeout = 10)
{
	for (int round = 0; round < 20; round++) {
		chan_t *c = chan_new(sizeof(int), 0);
		struct op a = {.c = c, .value = 555 + round, .rc = -1};
		tu_go_t th = tu_spawn(op_send, &a);
		cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
		int v = -1;
		bool ok = false;
		cr_assert_eq(chan_try_recv(c, &v, &ok), 0);
		cr_assert(ok);
		cr_assert_eq(v, 555 + round);
		tu_join(th);
		cr_assert_eq(a.rc, 0);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/*
 * Direct handoff on a buffered channel: with a receiver waiting, the sender
 * copies straight to it, so the buffer never holds the value (len is 0 the
 * moment chan_send returns, before the receiver has even woken).
 */
Test(chan_fifo, direct_handoff_buffered, .timeout = 10)
{
	for (int round = 0; round < 20; round++) {
		chan_t *c = chan_new(sizeof(int), 4);
		struct op a = {.c = c, .value = -1, .rc = -1};
		tu_go_t th = tu_spawn(op_recv, &a);
		cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
		int v = 99;
		cr_assert_eq(chan_send(c, &v), 0);
		cr_assert_eq(chan_len(c), 0, "round %d: value went through the buffer", round);
		/* The handoff is also the only way that value can travel: a
		 * second send stays in the buffer for us. */
		v = 100;
		cr_assert_eq(chan_send(c, &v), 0);
		tu_join(th);
		cr_assert_eq(a.rc, 0);
		cr_assert(a.ok);
		cr_assert_eq(a.value, 99);
		cr_assert_eq(chan_len(c), 1);
		int w = -1;
		cr_assert_eq(chan_recv(c, &w, NULL), 0);
		cr_assert_eq(w, 100);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* Mixed: receivers queue, then are served FIFO by a burst of non-blocking sends. */
Test(chan_fifo, blocked_receivers_served_by_try_send, .timeout = 20)
{
	chan_t *c = chan_new(sizeof(int), 0);
	tu_go_t th[K];
	struct op a[K];
	start_queued(th, a, c, op_recv, -1);
	for (int i = 0; i < K; i++)
		cr_assert_eq(chan_try_send(c, &i), 0, "send %d", i);
	cr_assert_eq(chan_try_send(c, &(int){K}), EAGAIN);
	for (int i = 0; i < K; i++) {
		tu_join(th[i]);
		cr_assert_eq(a[i].value, i);
	}
	cr_assert_eq(chan_unref(c), 0);
}
