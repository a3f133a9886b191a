/*
 * tests/test_chan_close.c - chan_close: wakes every waiter; receivers drain
 * the buffer, then get the zero value and ok == false; blocked senders get
 * EPIPE and their values never enter the channel; send on a closed channel is
 * EPIPE; closing twice is EALREADY.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <string.h>

#include "test_chan_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(chan_close);

#define K 6

/* The plain call for CHAN_FOREVER, else the deadline form. */
static void *recv_thread(void *p)
{
	struct op *a = p;
	return a->deadline == CHAN_FOREVER ? op_recv(a) : op_recv_until(a);
}

static void *send_thread(void *p)
{
	struct op *a = p;
	return a->deadline == CHAN_FOREVER ? op_send(a) : op_send_until(a);
}

/* n threads running fn on c, values 1000 + i, each parked before the next. */
static void start_n_parked(tu_go_t *th, struct op *a, int n, chan_t *c, void *(*fn)(void *),
			   int64_t deadline)
{
	for (int i = 0; i < n; i++)
		a[i] = (struct op){
			.c = c, .value = 1000 + i, .ok = true, .rc = -1, .deadline = deadline};
	start_parked(th, a, n, fn);
}

Test(chan_close, close_twice_ealready, .timeout = 5)
{
	for (size_t cap = 0; cap < 3; cap++) {
		chan_t *c = chan_new(sizeof(int), cap);
		cr_assert_not(chan_is_closed(c));
		cr_assert_eq(chan_close(c), 0);
		cr_assert(chan_is_closed(c));
		cr_assert_eq(chan_close(c), EALREADY);
		cr_assert_eq(chan_close(c), EALREADY);
		cr_assert(chan_is_closed(c));
		cr_assert_eq(chan_unref(c), 0);
	}
}

Test(chan_close, send_on_closed_epipe, .timeout = 5)
{
	for (size_t cap = 0; cap < 3; cap++) {
		chan_t *c = chan_new(sizeof(int), cap);
		cr_assert_eq(chan_close(c), 0);
		int v = 1;
		cr_assert_eq(chan_send(c, &v), EPIPE);
		cr_assert_eq(chan_try_send(c, &v), EPIPE);
		cr_assert_eq(chan_send_until(c, &v, CHAN_NOWAIT), EPIPE);
		cr_assert_eq(chan_send_until(c, &v, CHAN_FOREVER), EPIPE);
		cr_assert_eq(chan_send_until(c, &v, chan_deadline_in(1000000000)), EPIPE);
		cr_assert_eq(chan_len(c), 0);
		bool ok = true;
		cr_assert_eq(chan_recv(c, &v, &ok), 0);
		cr_assert_not(ok);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* EPIPE on a closed channel even when the buffer has room: closed is checked first. */
Test(chan_close, send_on_closed_with_room_epipe, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 4);
	int v = 1;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_close(c), 0);
	v = 2;
	cr_assert_eq(chan_send(c, &v), EPIPE);
	cr_assert_eq(chan_try_send(c, &v), EPIPE);
	cr_assert_eq(chan_len(c), 1);
	cr_assert_eq(chan_unref(c), 0);
}

/* A full buffer that is closed: non-blocking send reports the close (EPIPE),
 * not "would block" (Go: the fast path only fails early on an open channel). */
Test(chan_close, try_send_closed_full_epipe, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 2);
	int v = 1;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_try_send(c, &v), EAGAIN);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_try_send(c, &v), EPIPE);
	cr_assert_eq(chan_send_until(c, &v, CHAN_NOWAIT), EPIPE);
	cr_assert_eq(chan_send_until(c, &v, chan_deadline_in(1000000)), EPIPE);
	cr_assert_eq(chan_len(c), 2);
	cr_assert_eq(chan_unref(c), 0);
}

/* Receivers drain the buffer after close, then see zero + ok=false forever. */
Test(chan_close, drain_then_zero, .timeout = 5)
{
	const int n = 5;
	chan_t *c = chan_new(sizeof(int), (size_t)n);
	for (int i = 1; i <= n; i++)
		cr_assert_eq(chan_send(c, &i), 0);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_len(c), (size_t)n);
	bool ok;
	int v;
	/* Drain with each receive flavour. */
	cr_assert_eq(chan_recv(c, &v, &ok), 0);
	cr_assert(ok && v == 1);
	cr_assert_eq(chan_try_recv(c, &v, &ok), 0);
	cr_assert(ok && v == 2);
	cr_assert_eq(chan_recv_until(c, &v, &ok, CHAN_NOWAIT), 0);
	cr_assert(ok && v == 3);
	cr_assert_eq(chan_recv_until(c, &v, &ok, chan_deadline_in(1000000)), 0);
	cr_assert(ok && v == 4);
	cr_assert_eq(chan_recv_until(c, &v, &ok, CHAN_FOREVER), 0);
	cr_assert(ok && v == 5);
	cr_assert_eq(chan_len(c), 0);
	for (int i = 0; i < 10; i++) {
		v = 0x5a5a;
		ok = true;
		cr_assert_eq(chan_recv(c, &v, &ok), 0);
		cr_assert_not(ok);
		cr_assert_eq(v, 0);
		v = 0x5a5a;
		ok = true;
		cr_assert_eq(chan_try_recv(c, &v, &ok), 0, "closed+drained is ready, not EAGAIN");
		cr_assert_not(ok);
		cr_assert_eq(v, 0);
		v = 0x5a5a;
		ok = true;
		cr_assert_eq(chan_recv_until(c, &v, &ok, CHAN_NOWAIT), 0,
			     "closed+drained is ready, not ETIMEDOUT");
		cr_assert_not(ok);
		cr_assert_eq(v, 0);
		cr_assert_eq(chan_recv(c, NULL, NULL), 0);
	}
	cr_assert_eq(chan_unref(c), 0);
}

/* Zero value: every byte of a large element is cleared. */
Test(chan_close, zero_value_large_elem, .timeout = 5)
{
	unsigned char buf[512];
	chan_t *c = chan_new(sizeof buf, 1);
	memset(buf, 0xff, sizeof buf);
	cr_assert_eq(chan_send(c, buf), 0);
	cr_assert_eq(chan_close(c), 0);
	memset(buf, 0, sizeof buf);
	bool ok = false;
	cr_assert_eq(chan_recv(c, buf, &ok), 0);
	cr_assert(ok);
	for (size_t i = 0; i < sizeof buf; i++)
		cr_assert_eq(buf[i], 0xff);
	memset(buf, 0x77, sizeof buf);
	cr_assert_eq(chan_recv(c, buf, &ok), 0);
	cr_assert_not(ok);
	for (size_t i = 0; i < sizeof buf; i++)
		cr_assert_eq(buf[i], 0, "byte %zu not zeroed", i);
	cr_assert_eq(chan_unref(c), 0);
}

/* close wakes every blocked receiver with zero + ok=false. */
static void close_wakes_receivers(size_t cap, int64_t deadline)
{
	for (int round = 0; round < 3; round++) {
		chan_t *c = chan_new(sizeof(int), cap);
		tu_go_t th[K];
		struct op a[K];
		start_n_parked(th, a, K, c, recv_thread, deadline);
		cr_assert_eq(chan_close(c), 0);
		for (int i = 0; i < K; i++) {
			tu_join(th[i]);
			cr_assert_eq(a[i].rc, 0, "receiver %d rc %d", i, a[i].rc);
			cr_assert_not(a[i].ok);
			cr_assert_eq(a[i].value, 0);
		}
		cr_assert_eq(chan_unref(c), 0);
	}
}
Test(chan_close, wakes_receivers_unbuffered, .timeout = 20)
{
	close_wakes_receivers(0, CHAN_FOREVER);
}
Test(chan_close, wakes_receivers_buffered, .timeout = 20)
{
	close_wakes_receivers(4, CHAN_FOREVER);
}
/* A deadline receiver woken by close reports the close, not a timeout. */
Test(chan_close, wakes_deadline_receivers, .timeout = 30)
{
	close_wakes_receivers(0, chan_deadline_in((int64_t)20 * 1000000000));
	close_wakes_receivers(2, chan_deadline_in((int64_t)20 * 1000000000));
}

/*
 * close wakes every blocked sender with EPIPE, and their values never enter
 * the channel: afterwards a receiver finds exactly what was buffered before,
 * then ok=false.
 */
static void close_wakes_senders(size_t cap, int64_t deadline)
{
	for (int round = 0; round < 3; round++) {
		chan_t *c = chan_new(sizeof(int), cap);
		for (int i = 0; i < (int)cap; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		tu_go_t th[K];
		struct op a[K];
		start_n_parked(th, a, K, c, send_thread, deadline);
		cr_assert_eq(chan_close(c), 0);
		for (int i = 0; i < K; i++) {
			tu_join(th[i]);
			cr_assert_eq(a[i].rc, EPIPE, "sender %d rc %d", i, a[i].rc);
		}
		cr_assert_eq(chan_len(c), cap);
		for (int i = 0; i < (int)cap; i++) {
			int v = -1;
			bool ok = false;
			cr_assert_eq(chan_recv(c, &v, &ok), 0);
			cr_assert(ok);
			cr_assert_eq(v, i, "buffer holds %d at %d: a failed sender's value entered",
				     v, i);
		}
		bool ok = true;
		int v = -1;
		cr_assert_eq(chan_recv(c, &v, &ok), 0);
		cr_assert_not(ok, "a value (%d) from a sender that got EPIPE was received", v);
		cr_assert_eq(chan_unref(c), 0);
	}
}
Test(chan_close, wakes_senders_unbuffered, .timeout = 20)
{
	close_wakes_senders(0, CHAN_FOREVER);
}
Test(chan_close, wakes_senders_full_buffer, .timeout = 20)
{
	close_wakes_senders(3, CHAN_FOREVER);
}
Test(chan_close, wakes_deadline_senders, .timeout = 30)
{
	close_wakes_senders(0, chan_deadline_in((int64_t)20 * 1000000000));
	close_wakes_senders(1, chan_deadline_in((int64_t)20 * 1000000000));
}

/* Zero-size elements: same rules. */
Test(chan_close, zero_elem_wakes_all, .timeout = 20)
{
	chan_t *c = chan_new(0, 0);
	tu_go_t th[K];
	struct op a[K];
	start_n_parked(th, a, K, c, recv_thread, CHAN_FOREVER);
	cr_assert_eq(chan_close(c), 0);
	for (int i = 0; i < K; i++) {
		tu_join(th[i]);
		cr_assert_eq(a[i].rc, 0);
		cr_assert_not(a[i].ok);
	}
	cr_assert_eq(chan_unref(c), 0);
}

/*
 * Close racing a blocking receive (no parking wait: any interleaving).
 * Whatever the timing, the receiver returns with ok=false.
 */
Test(chan_close, close_races_receiver, .timeout = 20)
{
	for (int round = 0; round < 2000; round++) {
		chan_t *c = chan_new(sizeof(int), round % 3);
		struct op a = {.c = c, .value = 7, .ok = true, .rc = -1, .deadline = CHAN_FOREVER};
		tu_go_t th = tu_spawn(recv_thread, &a);
		cr_assert_eq(chan_close(c), 0);
		tu_join(th);
		cr_assert_eq(a.rc, 0);
		cr_assert_not(a.ok);
		cr_assert_eq(a.value, 0);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* Close racing a sender on a full / unbuffered channel nobody drains: always EPIPE. */
Test(chan_close, close_races_sender, .timeout = 20)
{
	for (int round = 0; round < 2000; round++) {
		size_t cap = (size_t)(round % 3);
		chan_t *c = chan_new(sizeof(int), cap);
		for (int i = 0; i < (int)cap; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		struct op a = {.c = c, .value = -5, .rc = -1, .deadline = CHAN_FOREVER};
		tu_go_t th = tu_spawn(send_thread, &a);
		cr_assert_eq(chan_close(c), 0);
		tu_join(th);
		cr_assert_eq(a.rc, EPIPE);
		cr_assert_eq(chan_len(c), cap);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* Values buffered at close stay receivable: concurrent receivers started
 * after close get each of them exactly once. */
Test(chan_close, close_then_late_receivers_drain, .timeout = 10)
{
	chan_t *c = chan_new(sizeof(int), 8);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(chan_send(c, &i), 0);
	cr_assert_eq(chan_close(c), 0);
	struct op a[8];
	tu_go_t th[8];
	for (int i = 0; i < 8; i++) {
		a[i] = (struct op){.c = c, .value = -1, .rc = -1, .deadline = CHAN_FOREVER};
		th[i] = tu_spawn(recv_thread, &a[i]);
	}
	int seen = 0;
	for (int i = 0; i < 8; i++) {
		tu_join(th[i]);
		cr_assert_eq(a[i].rc, 0);
		cr_assert(a[i].ok);
		cr_assert(a[i].value >= 0 && a[i].value < 8);
		cr_assert_eq(seen & (1 << a[i].value), 0, "value %d received twice", a[i].value);
		seen |= 1 << a[i].value;
	}
	cr_assert_eq(seen, 0xff);
	cr_assert_eq(chan_unref(c), 0);
}
