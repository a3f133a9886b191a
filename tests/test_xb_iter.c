/*
 * tests/test_xb_iter.c - crossbeam-channel's tests/iter.rs ported to
 * CHAN_RANGE (Go's `for v := range ch`, include/gochan/select.h).
 *
 * Mapping: unbounded() -> a buffered channel with room for every value the
 * test sends (gochan has no unbounded channel: list.rs is not portable);
 * drop(s) -> chan_close; r.iter() -> CHAN_RANGE; try_iter() -> chan_try_recv
 * until EAGAIN; into_iter() of an owned receiver whose sender is gone ->
 * CHAN_RANGE over a closed channel.
 *
 * Ported: nested_recv_iter, recv_iter_break, recv_try_iter,
 * recv_into_iter_owned, recv_into_iter_borrowed (5); all of iter.rs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_iter);

#define ROOM 64

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

Test(xb_iter, nested_recv_iter, .timeout = 30)
{
	struct pair q = {chan_new(sizeof(int), ROOM), chan_new(sizeof(int), ROOM)};
	tu_go_t t = tu_spawn(summer, &q);
	cr_assert_eq(xb_send_int(q.in, 3), 0);
	cr_assert_eq(xb_send_int(q.in, 1), 0);
	cr_assert_eq(xb_send_int(q.in, 2), 0);
	cr_assert_eq(chan_close(q.in), 0);
	cr_assert_eq(xb_recv_int(q.out), 6);
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(q.in), 0);
	cr_assert_eq(chan_unref(q.out), 0);
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

Test(xb_iter, recv_iter_break, .timeout = 30)
{
	struct pair q = {chan_new(sizeof(int), ROOM), chan_new(sizeof(int), ROOM)};
	tu_go_t t = tu_spawn(breaker, &q);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(xb_send_int(q.in, 2), 0);
	(void)xb_send_int(q.in, 2); /* crossbeam: let _ = s.send(2) */
	cr_assert_eq(chan_close(q.in), 0);
	cr_assert_eq(xb_recv_int(q.out), 4);
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(q.in), 0);
	cr_assert_eq(chan_unref(q.out), 0);
}

/* recv_try_iter: the client asks until the responses add up to 6. */
static void *try_iter_client(void *p)
{
	struct pair *q = p; /* in: requests (it sends), out: responses */
	int count = 0;
	for (;;) {
		int x;
		bool ok;
		while (chan_try_recv(q->out, &x, &ok) == 0 && ok) {
			count += x;
			if (count == 6)
				goto done;
		}
		XB_CHECK(chan_send(q->in, NULL) == 0);
	}
done:
	/* Its end drops both: the server's range ends or its send fails. */
	XB_CHECK(chan_close(q->in) == 0);
	XB_CHECK(chan_close(q->out) == 0);
	return NULL;
}

Test(xb_iter, recv_try_iter, .timeout = 30)
{
	struct pair q = {chan_new(0, ROOM), chan_new(sizeof(int), ROOM)};
	tu_go_t t = tu_spawn(try_iter_client, &q);
	CHAN_RANGE(q.in, NULL) {
		int two = 2;
		if (chan_send(q.out, &two) != 0)
			break;
	}
	tu_join(t);
	XB_ASSERT_OK();
	cr_assert_eq(chan_unref(q.in), 0);
	cr_assert_eq(chan_unref(q.out), 0);
}

Test(xb_iter, recv_into_iter_owned)
{
	chan_t *r = chan_new(sizeof(int), ROOM);
	cr_assert_eq(xb_send_int(r, 1), 0);
	cr_assert_eq(xb_send_int(r, 2), 0);
	cr_assert_eq(chan_close(r), 0); /* the sender went out of scope */
	int want = 1, x;
	CHAN_RANGE(r, &x)
		cr_assert_eq(x, want++);
	cr_assert_eq(want, 3);
	cr_assert_eq(chan_unref(r), 0);
}

Test(xb_iter, recv_into_iter_borrowed)
{
	chan_t *r = chan_new(sizeof(int), ROOM);
	cr_assert_eq(xb_send_int(r, 1), 0);
	cr_assert_eq(xb_send_int(r, 2), 0);
	cr_assert_eq(chan_close(r), 0); /* drop(s) */
	int x;
	bool ok;
	cr_assert_eq(chan_recv(r, &x, &ok), 0); /* iter.next() */
	cr_assert(ok && x == 1);
	cr_assert_eq(chan_recv(r, &x, &ok), 0);
	cr_assert(ok && x == 2);
	cr_assert_eq(chan_recv(r, &x, &ok), 0);
	cr_assert_not(ok); /* next() is None */
	cr_assert_eq(chan_unref(r), 0);
}
