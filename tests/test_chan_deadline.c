/*
 * tests/test_chan_deadline.c - chan_send_until / chan_recv_until: ETIMEDOUT
 * when the deadline passes (not before it), a passed deadline (CHAN_NOWAIT
 * among them) makes exactly one non-blocking attempt, a timed-out operation
 * leaves no trace (its value is not sent, its waiter is gone, *elem and *ok
 * are untouched), and a counterpart arriving in time completes it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>

#include "test_chan_util.h"
#include "tests/leakcheck.h"
#include "tests/test_bubble_util.h"

TB_SUITE(chan_deadline);

TB_TEST(chan_deadline, recv_times_out, .timeout = 10)
{
	for (size_t cap = 0; cap < 3; cap++) {
		chan_t *c = chan_new(sizeof(int), cap);
		int v = 0x1234;
		bool ok = true;
		int64_t t0 = chan_now();
		int64_t dl = t0 + 20 * MS;
		cr_assert_eq(chan_recv_until(c, &v, &ok, dl), ETIMEDOUT);
		int64_t t1 = chan_now();
		cr_assert_geq(t1, dl, "returned %lld ns before the deadline", (long long)(dl - t1));
		cr_assert_lt(t1 - t0, 2000 * MS, "took %lld ms", (long long)((t1 - t0) / MS));
		TB_EXACT(t1, dl);
		cr_assert_eq(v, 0x1234, "*elem changed on timeout");
		cr_assert(ok, "*ok changed on timeout");
		cr_assert_eq(chan_unref(c), 0);
	}
}

TB_TEST(chan_deadline, send_times_out_and_value_not_sent, .timeout = 10)
{
	for (size_t cap = 0; cap < 3; cap++) {
		chan_t *c = chan_new(sizeof(int), cap);
		for (int i = 0; i < (int)cap; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		int v = 777;
		int64_t dl = chan_deadline_in(20 * MS);
		cr_assert_eq(chan_send_until(c, &v, dl), ETIMEDOUT);
		cr_assert_geq(chan_now(), dl);
		TB_EXACT(chan_now(), dl);
		cr_assert_eq(chan_len(c), cap);
		/* The buffer holds only what was there; then nothing: the
		 * timed-out sender is no longer queued. */
		for (int i = 0; i < (int)cap; i++) {
			int w = -1;
			cr_assert_eq(chan_try_recv(c, &w, NULL), 0);
			cr_assert_eq(w, i);
		}
		int w = -1;
		cr_assert_eq(chan_try_recv(c, &w, NULL), EAGAIN,
			     "timed-out sender still queued (got %d)", w);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* A timed-out receiver is removed: a later non-blocking send finds no one. */
TB_TEST(chan_deadline, timed_out_receiver_dequeued, .timeout = 10)
{
	chan_t *c = chan_new(sizeof(int), 0);
	int v;
	int64_t t0 = chan_now();

	for (int i = 0; i < 5; i++)
		cr_assert_eq(chan_recv_until(c, &v, NULL, chan_deadline_in(MS)), ETIMEDOUT);
	TB_EXACT(chan_now(), t0 + 5 * MS);
	v = 1;
	cr_assert_eq(chan_try_send(c, &v), EAGAIN, "a timed-out receiver took a value");
	cr_assert_eq(chan_unref(c), 0);
}

/* Past deadlines: one attempt, which succeeds when the operation can proceed. */
TB_TEST(chan_deadline, past_deadline_one_attempt, .timeout = 10)
{
	const int64_t now = chan_now();
	const int64_t past[] = {CHAN_NOWAIT, chan_deadline_in(0), chan_deadline_in(-5 * MS),
				now - 1, 1};
	for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
		chan_t *c = chan_new(sizeof(int), 1);
		int v = 5, w = -1;
		bool ok = false;
		int64_t t0 = chan_now();
		cr_assert_eq(chan_recv_until(c, &w, &ok, past[i]), ETIMEDOUT, "deadline %lld",
			     (long long)past[i]);
		cr_assert_eq(chan_send_until(c, &v, past[i]), 0, "room: must succeed");
		cr_assert_eq(chan_send_until(c, &v, past[i]), ETIMEDOUT, "full: one attempt");
		cr_assert_eq(chan_recv_until(c, &w, &ok, past[i]), 0, "data: must succeed");
		cr_assert(ok);
		cr_assert_eq(w, 5);
		cr_assert_lt(chan_now() - t0, 1000 * MS, "a passed deadline waited");
		TB_EXACT(chan_now(), t0);
		cr_assert_eq(chan_close(c), 0);
		cr_assert_eq(chan_send_until(c, &v, past[i]), EPIPE);
		cr_assert_eq(chan_recv_until(c, &w, &ok, past[i]), 0);
		cr_assert_not(ok);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/*
 * "any deadline at or before now ... makes exactly one non-blocking attempt"
 * (gochan/chan.h): that includes negative deadlines other than CHAN_FOREVER.
 * Runs the operation on a helper thread so a wrong "wait forever" can be
 * seen (the helper parked in the call) and ended by closing the channel
 * instead of hanging the test.  Nothing else touches the channel until the
 * helper has returned or parked, so a futex sleep of the helper there can
 * only be a park (testutil.h).
 */
struct neg_arg {
	chan_t *c;
	int64_t deadline;
	atomic_int rc; /* -1 while the call is in progress */
	bool ok;
	tu_blocker_t blk;
};
static void *neg_recv(void *p)
{
	struct neg_arg *a = p;
	int v;
	a->ok = true;
	tu_about_to_block(&a->blk);
	/* release: publishes a->ok to the main thread's acquire load */
	atomic_store_explicit(&a->rc, chan_recv_until(a->c, &v, &a->ok, a->deadline),
			      memory_order_release);
	return NULL;
}
/* Wait, however long the machine takes, until the helper's call has
 * returned (true) or the helper is parked in it (false: it blocks). */
static bool neg_returned(struct neg_arg *a)
{
	int parked = 0;
	for (;;) {
		if (atomic_load_explicit(&a->rc, memory_order_acquire) != -1)
			return true;
		/* seen on three polls in a row, as tu_wait_blocked does */
		parked = tu_blocked_now(&a->blk) ? parked + 1 : 0;
		if (parked >= 3)
			return atomic_load_explicit(&a->rc, memory_order_acquire) != -1;
		struct timespec ts = {0, 20000};
		nanosleep(&ts, NULL);
	}
}
Test(chan_deadline, negative_deadline_is_past, .timeout = 10)
{
	const int64_t negs[] = {-2, -1000, INT64_MIN};
	for (size_t i = 0; i < sizeof negs / sizeof negs[0]; i++) {
		chan_t *c = chan_new(sizeof(int), 0);
		struct neg_arg a = {.c = c, .deadline = negs[i], .ok = true};
		atomic_init(&a.rc, -1);
		tu_go_t th = tu_spawn(neg_recv, &a);
		bool returned = neg_returned(&a);
		chan_close(c); /* unblocks a helper that parked */
		tu_join(th);
		cr_expect(returned && atomic_load(&a.rc) == ETIMEDOUT,
			  "chan_recv_until(deadline=%lld) %s instead of one non-blocking attempt "
			  "(rc %d, ok %d)",
			  (long long)negs[i], returned ? "returned" : "blocked until close",
			  atomic_load(&a.rc), a.ok);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* CHAN_NOWAIT with a parked receiver: the one attempt hands the value over. */
Test(chan_deadline, nowait_meets_parked_receiver, .timeout = 10)
{
	for (int round = 0; round < 10; round++) {
		chan_t *c = chan_new(sizeof(int), 0);
		struct op a = {.c = c, .value = -1, .rc = -1, .deadline = CHAN_FOREVER};
		tu_go_t th = tu_spawn(op_recv_until, &a);
		cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
		int v = 31337;
		cr_assert_eq(chan_send_until(c, &v, CHAN_NOWAIT), 0);
		tu_join(th);
		cr_assert_eq(a.rc, 0);
		cr_assert(a.ok);
		cr_assert_eq(a.value, 31337);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* A deadline receiver / sender completed by a counterpart in time returns 0. */
Test(chan_deadline, completes_before_deadline, .timeout = 20)
{
	for (int round = 0; round < 10; round++) {
		size_t cap = (size_t)(round % 2);
		chan_t *c = chan_new(sizeof(int), cap);
		struct op a = {
			.c = c, .value = -1, .rc = -1, .deadline = chan_deadline_in(30000 * MS)};
		tu_go_t th = tu_spawn(op_recv_until, &a);
		cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
		int v = round;
		cr_assert_eq(chan_send(c, &v), 0);
		tu_join(th);
		cr_assert_eq(a.rc, 0);
		cr_assert(a.ok);
		cr_assert_eq(a.value, round);

		/* And the sending side, on a full (or unbuffered) channel. */
		for (int i = 0; i < (int)cap; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		struct op s = {
			.c = c, .value = 4242, .rc = -1, .deadline = chan_deadline_in(30000 * MS)};
		th = tu_spawn(op_send_until, &s);
		cr_assert(tu_wait_blocked(&s.blk, TU_BLOCK_TIMEOUT_NS));
		for (int i = 0; i < (int)cap; i++) {
			cr_assert_eq(chan_recv(c, &v, NULL), 0);
			cr_assert_eq(v, i);
		}
		cr_assert_eq(chan_recv(c, &v, NULL), 0);
		cr_assert_eq(v, 4242);
		tu_join(th);
		cr_assert_eq(s.rc, 0);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* CHAN_FOREVER deadline variants behave as the plain blocking calls. */
Test(chan_deadline, forever_blocks_until_counterpart, .timeout = 10)
{
	chan_t *c = chan_new(sizeof(int), 0);
	struct op a = {.c = c, .value = -1, .rc = -1, .deadline = CHAN_FOREVER};
	tu_go_t th = tu_spawn(op_recv_until, &a);
	cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
	int v = 8;
	cr_assert_eq(chan_send_until(c, &v, CHAN_FOREVER), 0);
	tu_join(th);
	cr_assert_eq(a.rc, 0);
	cr_assert_eq(a.value, 8);
	cr_assert_eq(chan_unref(c), 0);
}

/*
 * FIFO survives a timed-out waiter in the middle of the queue: a, b, d queue
 * in that order, b's deadline passes while d is queued behind it, and the
 * two values then go to a and d.  b's wait is sized from the machine: a
 * round where b timed out before it was seen parked, or before d had queued
 * behind it, did not put the timeout in the middle, so it is done again with
 * twice the wait (its outcome is checked all the same).
 */
static void fifo_round(int64_t wait, bool *middle)
{
	chan_t *c = chan_new(sizeof(int), 0);
	struct op a = {.c = c, .value = -1, .rc = -1, .deadline = CHAN_FOREVER};
	struct op b = {.c = c, .value = -1, .rc = -1};
	struct op d = {.c = c, .value = -1, .rc = -1, .deadline = CHAN_FOREVER};
	tu_go_t ta = tu_spawn(op_recv_until, &a);
	cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
	b.deadline = chan_deadline_in(wait);
	tu_go_t tb = tu_spawn(op_recv_until, &b);
	/* Parked, unless its deadline came first (then it returns by itself). */
	*middle = tu_wait_blocked(&b.blk, wait);
	tu_go_t td = tu_spawn(op_recv_until, &d);
	cr_assert(tu_wait_blocked(&d.blk, TU_BLOCK_TIMEOUT_NS));
	/* Still parked with d queued behind it: the timeout comes in the middle. */
	*middle = *middle && tu_blocked_now(&b.blk);
	tu_join(tb); /* b times out by itself */
	cr_assert_eq(b.rc, ETIMEDOUT);
	int v = 1;
	cr_assert_eq(chan_send(c, &v), 0);
	v = 2;
	cr_assert_eq(chan_send(c, &v), 0);
	tu_join(ta);
	tu_join(td);
	cr_assert_eq(a.value, 1);
	cr_assert_eq(d.value, 2);
	cr_assert_eq(b.value, -1);
	cr_assert_eq(chan_unref(c), 0);
}
Test(chan_deadline, fifo_after_middle_timeout, .timeout = 20)
{
	bool middle = false;
	for (int64_t wait = 50 * MS; !middle; wait *= 2)
		fifo_round(wait, &middle);
}

/*
 * Deadline expiry racing a counterpart: a value is either delivered (both
 * sides report success) or not at all (the sender reports ETIMEDOUT and the
 * receiver never sees it).  Conservation over many short-deadline rounds.
 */
struct race {
	chan_t *c;
	int n;
	int sent_ok; /* sends that returned 0 */
	int recvd;   /* receives that returned a value */
	long sum_sent, sum_recvd;
	atomic_bool done; /* set (release) by the sender when it finishes */
};
static void *race_sender(void *p)
{
	struct race *r = p;
	for (int i = 1; i <= r->n; i++) {
		int rc = chan_send_until(r->c, &i, chan_deadline_in(20000));
		if (rc == 0) {
			r->sent_ok++;
			r->sum_sent += i;
		} else if (rc != ETIMEDOUT) {
			r->sent_ok = -1000000;
			break;
		}
	}
	atomic_store_explicit(&r->done, true, memory_order_release);
	return NULL;
}
Test(chan_deadline, expiry_races_counterpart, .timeout = 30)
{
	for (size_t cap = 0; cap < 3; cap++) {
		chan_t *c = chan_new(sizeof(int), cap);
		struct race r = {.c = c, .n = 3000};
		tu_go_t th = tu_spawn(race_sender, &r);
		for (;;) {
			int v;
			bool ok;
			int rc = chan_recv_until(c, &v, &ok, chan_deadline_in(20000));
			if (rc == ETIMEDOUT) {
				/* The sender is done: drain the rest below. */
				if (atomic_load_explicit(&r.done, memory_order_acquire))
					break;
				continue;
			}
			cr_assert_eq(rc, 0);
			cr_assert(ok);
			r.recvd++;
			r.sum_recvd += v;
		}
		tu_join(th);
		/* After join, drain what is left (values buffered after our
		 * last receive) and stop at the close. */
		cr_assert_eq(chan_close(c), 0);
		for (;;) {
			int v;
			bool ok;
			cr_assert_eq(chan_recv(c, &v, &ok), 0);
			if (!ok)
				break;
			r.recvd++;
			r.sum_recvd += v;
		}
		cr_assert_geq(r.sent_ok, 0, "sender got an error other than ETIMEDOUT");
		cr_assert_eq(r.recvd, r.sent_ok, "cap %zu: %d sends succeeded, %d values received",
			     cap, r.sent_ok, r.recvd);
		cr_assert_eq(r.sum_recvd, r.sum_sent);
		cr_assert_eq(chan_unref(c), 0);
	}
}
