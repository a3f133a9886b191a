/*
 * tests/test_chan_regress.c - regressions modelled on bugs found in other C
 * channel libraries, each run many times with and without forcing the
 * interesting interleaving:
 *   - a sender blocked on a full channel is woken by close, reports EPIPE,
 *     and its value never appears in the channel;
 *   - an unbuffered sender blocked when close runs does not report success
 *     (and if it does report success, a receiver really got its value);
 *   - two non-blocking receivers racing for one item never hang, and exactly
 *     one of them gets it;
 *   - a non-blocking receive never reports "open and empty" (EAGAIN) after
 *     it has reported "closed".
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "test_chan_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(chan_regress);

/* Full buffer, parked sender, close: EPIPE and only the old values drain. */
Test(chan_regress, full_sender_woken_by_close_parked, .timeout = 30)
{
	for (int round = 0; round < 200; round++) {
		size_t cap = 1 + (size_t)(round % 4);
		chan_t *c = chan_new(sizeof(int), cap);
		for (int i = 0; i < (int)cap; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		struct op a = {.c = c, .value = 0xBAD, .rc = -1};
		tu_go_t th = tu_spawn(op_send, &a);
		cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
		cr_assert_eq(chan_close(c), 0);
		tu_join(th);
		cr_assert_eq(a.rc, EPIPE, "round %d: blocked sender reported %d", round, a.rc);
		for (int i = 0; i < (int)cap; i++) {
			int v = -1;
			bool ok = false;
			cr_assert_eq(chan_recv(c, &v, &ok), 0);
			cr_assert(ok);
			cr_assert_eq(v, i);
		}
		int v = -1;
		bool ok = true;
		cr_assert_eq(chan_recv(c, &v, &ok), 0);
		cr_assert_not(ok, "round %d: value %#x of a failed send entered the channel", round,
			      v);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* The same with no waiting: close at an arbitrary point of the send. */
Test(chan_regress, full_sender_races_close, .timeout = 30)
{
	for (int round = 0; round < 3000; round++) {
		chan_t *c = chan_new(sizeof(int), 1);
		int zero = 0;
		cr_assert_eq(chan_send(c, &zero), 0);
		struct op a = {.c = c, .value = 0xBAD, .rc = -1};
		tu_go_t th = tu_spawn(op_send, &a);
		if (round & 1)
			tu_yield();
		cr_assert_eq(chan_close(c), 0);
		tu_join(th);
		cr_assert_eq(a.rc, EPIPE);
		int v = -1;
		bool ok;
		cr_assert_eq(chan_recv(c, &v, &ok), 0);
		cr_assert(ok && v == 0);
		cr_assert_eq(chan_recv(c, &v, &ok), 0);
		cr_assert_not(ok, "round %d: value %#x of a failed send entered the channel", round,
			      v);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* Unbuffered, no receiver at all: a send in progress at close must fail. */
Test(chan_regress, unbuffered_sender_at_close_fails, .timeout = 30)
{
	for (int round = 0; round < 3000; round++) {
		chan_t *c = chan_new(sizeof(int), 0);
		struct op a = {.c = c, .value = 1, .rc = -1};
		tu_go_t th = tu_spawn(op_send, &a);
		if (round % 100 == 0)
			cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
		else if (round & 1)
			tu_yield();
		cr_assert_eq(chan_close(c), 0);
		tu_join(th);
		cr_assert_eq(a.rc, EPIPE, "round %d: unbuffered send with no receiver reported %d",
			     round, a.rc);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/*
 * Unbuffered sender, receiver and closer all racing, released together by a
 * barrier.  Whatever happens: the sender reports success exactly when the
 * receiver got its value (ok == true and the right value); otherwise the
 * sender gets EPIPE and the receiver ok == false.
 */
struct race3 {
	chan_t *c;
	tu_barrier_t bar;
	int send_rc;
	int recv_rc;
	int v;
	bool ok;
};
static void *race3_sender(void *p)
{
	struct race3 *r = p;
	int v = 42;
	tu_barrier_wait(&r->bar);
	r->send_rc = chan_send(r->c, &v);
	return NULL;
}
static void *race3_receiver(void *p)
{
	struct race3 *r = p;
	tu_barrier_wait(&r->bar);
	r->recv_rc = chan_recv(r->c, &r->v, &r->ok);
	return NULL;
}
Test(chan_regress, unbuffered_send_recv_close_race, .timeout = 30)
{
	int delivered = 0, refused = 0;
	for (int round = 0; round < 3000; round++) {
		struct race3 r = {
			.c = chan_new(sizeof(int), 0), .send_rc = -1, .recv_rc = -1, .v = -1};
		tu_barrier_init(&r.bar, 3);
		tu_go_t ts = tu_spawn(race3_sender, &r), tr = tu_spawn(race3_receiver, &r);
		tu_barrier_wait(&r.bar);
		if (round & 1)
			tu_yield();
		cr_assert_eq(chan_close(r.c), 0);
		tu_join(ts);
		tu_join(tr);
		tu_barrier_destroy(&r.bar);
		cr_assert_eq(r.recv_rc, 0);
		if (r.send_rc == 0) {
			cr_assert(r.ok && r.v == 42,
				  "round %d: send reported success but the receiver got %d/%d",
				  round, r.v, r.ok);
			delivered++;
		} else {
			cr_assert_eq(r.send_rc, EPIPE);
			cr_assert(!r.ok && r.v == 0,
				  "round %d: send failed but the receiver got %d/%d", round, r.v,
				  r.ok);
			refused++;
		}
		cr_assert_eq(chan_unref(r.c), 0);
	}
	cr_log_info("unbuffered_send_recv_close_race: %d delivered, %d refused", delivered,
		    refused);
}

/*
 * Two non-blocking receivers racing for one item: no hang, exactly one gets
 * it, the other sees EAGAIN (or, with close, ok == false).
 */
struct race2 {
	chan_t *c;
	tu_barrier_t bar;
	int rc[2];
	bool ok[2];
	int v[2];
};
struct race2_arg {
	struct race2 *r;
	int i;
};
static void *race2_try(void *p)
{
	struct race2_arg *a = p;
	struct race2 *r = a->r;
	tu_barrier_wait(&r->bar);
	r->rc[a->i] = chan_try_recv(r->c, &r->v[a->i], &r->ok[a->i]);
	return NULL;
}
/* mode 0: one buffered item; mode 1: one parked sender on an unbuffered
 * channel; mode 2: one buffered item and the channel closed. */
static void two_try_receivers(int mode, int rounds)
{
	for (int round = 0; round < rounds; round++) {
		struct race2 r = {.c = chan_new(sizeof(int), mode == 1 ? 0 : 1),
				  .rc = {-1, -1},
				  .v = {-1, -1}};
		tu_go_t sender = {0};
		struct op sa = {.c = r.c, .value = 7, .rc = -1};
		if (mode == 1) {
			sender = tu_spawn(op_send, &sa);
			cr_assert(tu_wait_blocked(&sa.blk, TU_BLOCK_TIMEOUT_NS));
		} else {
			int seven = 7;
			cr_assert_eq(chan_send(r.c, &seven), 0);
			if (mode == 2)
				cr_assert_eq(chan_close(r.c), 0);
		}
		tu_barrier_init(&r.bar, 2);
		struct race2_arg a0 = {&r, 0}, a1 = {&r, 1};
		tu_go_t t0 = tu_spawn(race2_try, &a0), t1 = tu_spawn(race2_try, &a1);
		tu_join(t0);
		tu_join(t1);
		tu_barrier_destroy(&r.bar);
		int got = 0;
		for (int i = 0; i < 2; i++) {
			if (r.rc[i] == 0 && r.ok[i]) {
				cr_assert_eq(r.v[i], 7);
				got++;
			} else if (mode == 2) {
				cr_assert(r.rc[i] == 0 && !r.ok[i], "mode 2: closed channel: rc %d",
					  r.rc[i]);
			} else {
				cr_assert_eq(r.rc[i], EAGAIN, "mode %d: rc %d", mode, r.rc[i]);
			}
		}
		cr_assert_eq(got, 1, "mode %d round %d: %d receivers got the single item", mode,
			     round, got);
		if (mode == 1) {
			tu_join(sender);
			cr_assert_eq(sa.rc, 0);
		}
		cr_assert_eq(chan_unref(r.c), 0);
	}
}
Test(chan_regress, two_try_receivers_buffered, .timeout = 30)
{
	two_try_receivers(0, 3000);
}
Test(chan_regress, two_try_receivers_parked_sender, .timeout = 30)
{
	two_try_receivers(1, 300);
}
Test(chan_regress, two_try_receivers_closed, .timeout = 30)
{
	two_try_receivers(2, 3000);
}

/*
 * Go's rule for the lock-free non-blocking receive: read emptiness first,
 * then closed, so "closed and drained" is never reported as "open and
 * empty".  Observable consequence: once a try_recv has reported the close,
 * no later try_recv (in the same thread) may report EAGAIN.
 */
static void *closer(void *p)
{
	chan_close(p);
	return NULL;
}
Test(chan_regress, try_recv_closed_never_reverts_to_eagain, .timeout = 30)
{
	for (int round = 0; round < 3000; round++) {
		chan_t *c = chan_new(sizeof(int), (size_t)(round % 2));
		tu_go_t th = tu_spawn(closer, c);
		bool seen_closed = false;
		for (int i = 0; i < 200; i++) {
			bool ok = true;
			int v, rc = chan_try_recv(c, &v, &ok);
			if (rc == EAGAIN) {
				cr_assert_not(seen_closed,
					      "round %d: EAGAIN after the close was reported",
					      round);
			} else {
				cr_assert_eq(rc, 0);
				cr_assert_not(ok);
				seen_closed = true;
			}
		}
		tu_join(th);
		bool ok = true;
		cr_assert_eq(chan_try_recv(c, NULL, &ok), 0, "after the closer was joined");
		cr_assert_not(ok);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/*
 * One buffered value, two try-receivers racing each other and a close: the
 * value is delivered at most once, and if nobody got it, it is still there
 * (close drains; it never drops buffered values).
 */
Test(chan_regress, closed_buffered_try_recv_exactly_once, .timeout = 30)
{
	for (int round = 0; round < 2000; round++) {
		struct race2 r = {.c = chan_new(sizeof(int), 2), .rc = {-1, -1}, .v = {-1, -1}};
		int seven = 7;
		cr_assert_eq(chan_send(r.c, &seven), 0);
		tu_barrier_init(&r.bar, 2);
		struct race2_arg a0 = {&r, 0}, a1 = {&r, 1};
		tu_go_t t0 = tu_spawn(race2_try, &a0), t1 = tu_spawn(race2_try, &a1);
		cr_assert_eq(chan_close(r.c), 0);
		tu_join(t0);
		tu_join(t1);
		tu_barrier_destroy(&r.bar);
		int got = 0;
		for (int i = 0; i < 2; i++) {
			if (r.rc[i] == EAGAIN)
				continue; /* legal: the other took the value before the close */
			cr_assert_eq(r.rc[i], 0);
			if (r.ok[i]) {
				cr_assert_eq(r.v[i], 7);
				got++;
			}
		}
		cr_assert_leq(got, 1, "round %d: one value received twice", round);
		/* If neither got it, it is still there. */
		bool ok = false;
		int v = -1;
		cr_assert_eq(chan_try_recv(r.c, &v, &ok), 0);
		cr_assert_eq(ok, got == 0);
		cr_assert_eq(chan_unref(r.c), 0);
	}
}

/*
 * BUG (found 2026-11-25, open at the time of writing): a deadline that
 * passes while a counterpart is completing the hand-off.
 *
 * The waiter's futex sleep times out, the abandon CAS fails because the
 * counterpart has already claimed it, and the waiter parks again with no
 * deadline (now inside gowait__park_wait, wait/park.c).  That second park
 * found the futex word still 2 (left by the first sleep), so its 0 -> 2 CAS
 * failed and it returned "complete" at
 * once, before the counterpart has copied the value or set w.success:
 *   - a receiver returns 0 with ok == false on an open channel although the
 *     sender reports success (the value is lost; the sender then writes into
 *     the receiver's buffer after chan_recv_until has returned);
 *   - a sender returns EPIPE (w.success still false) although the receiver
 *     gets the value, and the receiver is still reading the sender's buffer
 *     after chan_send_until has returned.
 * A large element (32 MiB copy, several ms) holds the hand-off open across
 * the deadline so the window is hit every time.  TSan saw the same race in
 * tests/stress/stress_chan.c (deadline part) at scale 5.
 */
#define SLOW_SZ ((size_t)32 << 20)
struct slow {
	chan_t *c;
	unsigned char *buf;
	int64_t deadline;
	int rc;
	bool ok;
	tu_blocker_t blk;
};
static void *slow_receiver(void *p)
{
	struct slow *a = p;
	a->ok = true;
	tu_about_to_block(&a->blk);
	a->rc = chan_recv_until(a->c, a->buf, &a->ok, a->deadline);
	return NULL;
}
static void *slow_sender(void *p)
{
	struct slow *a = p;
	tu_about_to_block(&a->blk);
	a->rc = chan_send_until(a->c, a->buf, a->deadline);
	/* The caller owns its buffer again once the send has returned. */
	memset(a->buf, 0xff, SLOW_SZ);
	return NULL;
}
/* Buffers freed by the tests' .fini, which runs even when an assertion
 * ends a test early (no LeakSanitizer noise on failure). */
static unsigned char *slow_src, *slow_dst;
static chan_t *slow_c; /* the current round's channel */
static void slow_alloc(void)
{
	slow_src = malloc(SLOW_SZ);
	slow_dst = malloc(SLOW_SZ);
}
static void slow_free(void)
{
	free(slow_src);
	free(slow_dst);
	if (slow_c)
		chan_unref(slow_c);
}
/* The end of a round: its channel, the last reference, is dropped. */
static void slow_end(chan_t *c)
{
	slow_c = NULL;
	cr_assert_eq(chan_unref(c), 0);
}
/*
 * One round's start: a fresh channel (in slow_c, for .fini), and @fn on it
 * with buffer @buf and a deadline 30 ms away, parked.  Returns false when a
 * loaded machine did not let it park before its own deadline: it must then
 * simply have timed out (checked here, and the round's channel dropped).
 */
static bool slow_start(struct slow *a, tu_go_t *th, void *(*fn)(void *), unsigned char *buf,
		       int round)
{
	*a = (struct slow){.c = slow_c = chan_new(SLOW_SZ, 0),
			   .buf = buf,
			   .deadline = chan_deadline_in(30 * MS),
			   .rc = -1};
	*th = tu_spawn(fn, a);
	if (tu_wait_blocked(&a->blk, 30 * MS))
		return true;
	tu_join(*th);
	cr_assert_eq(a->rc, ETIMEDOUT, "round %d: unserved call returned %d", round, a->rc);
	slow_end(a->c);
	return false;
}
static void wait_until(int64_t t)
{
	/* A timed wait on a channel nobody uses: aims the counterpart at the
	 * deadline; it synchronises nothing (the outcome is checked either way). */
	chan_t *idle = chan_new(0, 0);
	chan_recv_until(idle, NULL, NULL, t);
	chan_unref(idle);
}
Test(chan_regress, deadline_during_slow_handoff_receiver, .init = slow_alloc, .fini = slow_free,
     .timeout = 30)
{
	unsigned char *src = slow_src, *dst = slow_dst;
	memset(src, 0x5a, SLOW_SZ);
	for (int round = 0; round < 6; round++) {
		memset(dst, 0, SLOW_SZ);
		struct slow a;
		tu_go_t th;
		if (!slow_start(&a, &th, slow_receiver, dst, round))
			continue;
		chan_t *c = a.c;
		wait_until(a.deadline - MS / 2 - (round % 3) * MS);
		int src_rc = chan_send_until(c, src, a.deadline + 50 * MS);
		tu_join(th);
		if (src_rc == 0) {
			cr_assert_eq(a.rc, 0, "round %d: send succeeded but the receiver got rc %d",
				     round, a.rc);
			cr_assert(
				a.ok,
				"round %d: send succeeded but the receiver got ok=false on an open channel",
				round);
			cr_assert_eq(memcmp(dst, src, SLOW_SZ), 0, "round %d: value torn", round);
		} else {
			cr_assert_eq(src_rc, ETIMEDOUT);
			cr_assert_eq(a.rc, ETIMEDOUT,
				     "round %d: send timed out but the receiver got rc %d ok %d",
				     round, a.rc, a.ok);
		}
		slow_end(c);
	}
}
Test(chan_regress, deadline_during_slow_handoff_sender, .init = slow_alloc, .fini = slow_free,
     .timeout = 30)
{
	unsigned char *src = slow_src, *dst = slow_dst;
	for (int round = 0; round < 6; round++) {
		memset(src, 0x5a, SLOW_SZ);
		memset(dst, 0, SLOW_SZ);
		struct slow a;
		tu_go_t th;
		if (!slow_start(&a, &th, slow_sender, src, round))
			continue;
		chan_t *c = a.c;
		wait_until(a.deadline - MS / 2 - (round % 3) * MS);
		bool ok = false;
		int rc = chan_recv_until(c, dst, &ok, a.deadline + 50 * MS);
		tu_join(th);
		if (rc == 0) {
			cr_assert(ok);
			cr_assert_eq(a.rc, 0,
				     "round %d: the value was received but the sender reported %d",
				     round, a.rc);
			size_t i = 0;
			while (i < SLOW_SZ && dst[i] == 0x5a)
				i++;
			cr_assert_eq(
				i, SLOW_SZ,
				"round %d: value torn at byte %zu (sender reused its buffer early)",
				round, i);
		} else {
			cr_assert_eq(rc, ETIMEDOUT);
			cr_assert_eq(a.rc, ETIMEDOUT,
				     "round %d: receive timed out but the sender reported %d",
				     round, a.rc);
		}
		slow_end(c);
	}
}
