/*
 * tests/test_chan_lifetime.c - reference counting: chan_ref/chan_unref, the
 * last unref frees, and the last unref while a thread is blocked on the
 * channel returns EBUSY and frees nothing (run these under ASan to see the
 * "frees nothing" part enforced).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>

#include "test_chan_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(chan_lifetime);

Test(chan_lifetime, ref_unref_counts, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 1);
	cr_assert_eq(chan_ref(c), c);
	cr_assert_eq(chan_ref(c), c);
	/* Three references: the channel stays usable until the last goes. */
	cr_assert_eq(chan_unref(c), 0);
	int v = 3;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_eq(chan_recv(c, &v, NULL), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(chan_unref(c), 0); /* frees */
}

/* A channel freed with values still buffered: no leak (LeakSanitizer), no error. */
Test(chan_lifetime, free_with_buffered_values, .timeout = 5)
{
	chan_t *c = chan_new(64, 8);
	char buf[64] = "payload";
	for (int i = 0; i < 8; i++)
		cr_assert_eq(chan_send(c, buf), 0);
	cr_assert_eq(chan_unref(c), 0);
	c = chan_new(64, 8);
	cr_assert_eq(chan_send(c, buf), 0);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_unref(c), 0);
}

Test(chan_lifetime, null_ref_unref, .timeout = 5)
{
	cr_assert_null(chan_ref(NULL));
	cr_assert_eq(chan_unref(NULL), EINVAL);
}

/* Last unref with a blocked receiver / sender: EBUSY, channel intact; then
 * close (or a counterpart) releases the waiter and unref succeeds. */
static void ebusy_then(bool send, size_t cap, bool finish_by_close)
{
	chan_t *c = chan_new(sizeof(int), cap);
	for (int i = 0; send && i < (int)cap; i++)
		cr_assert_eq(chan_send(c, &i), 0);
	struct op w = {.c = c, .value = 4711, .rc = -1};
	tu_go_t th = tu_spawn(send ? op_send : op_recv, &w);
	cr_assert(tu_wait_blocked(&w.blk, TU_BLOCK_TIMEOUT_NS));
	cr_assert_eq(chan_unref(c), EBUSY);
	cr_assert_eq(chan_unref(c), EBUSY, "EBUSY must leave the reference with the caller");
	/* Still fully working after EBUSY. */
	cr_assert_eq(chan_cap(c), cap);
	cr_assert_not(chan_is_closed(c));
	if (finish_by_close) {
		cr_assert_eq(chan_close(c), 0);
		tu_join(th);
		if (send) {
			cr_assert_eq(w.rc, EPIPE);
		} else {
			cr_assert_eq(w.rc, 0);
			cr_assert_not(w.ok);
		}
	} else {
		int v = send ? -1 : 99;
		if (send) {
			for (int i = 0; i < (int)cap; i++) {
				cr_assert_eq(chan_recv(c, &v, NULL), 0);
				cr_assert_eq(v, i);
			}
			cr_assert_eq(chan_recv(c, &v, NULL), 0);
			cr_assert_eq(v, 4711);
		} else {
			cr_assert_eq(chan_send(c, &v), 0);
		}
		tu_join(th);
		cr_assert_eq(w.rc, 0);
		if (!send)
			cr_assert_eq(w.value, 99);
	}
	cr_assert_eq(chan_unref(c), 0);
}
Test(chan_lifetime, ebusy_blocked_receiver_close, .timeout = 10)
{
	ebusy_then(false, 0, true);
}
Test(chan_lifetime, ebusy_blocked_receiver_buffered_close, .timeout = 10)
{
	ebusy_then(false, 2, true);
}
Test(chan_lifetime, ebusy_blocked_sender_close, .timeout = 10)
{
	ebusy_then(true, 0, true);
}
Test(chan_lifetime, ebusy_blocked_sender_full_close, .timeout = 10)
{
	ebusy_then(true, 2, true);
}
Test(chan_lifetime, ebusy_blocked_receiver_served, .timeout = 10)
{
	ebusy_then(false, 0, false);
}
Test(chan_lifetime, ebusy_blocked_sender_served, .timeout = 10)
{
	ebusy_then(true, 1, false);
}

/* EBUSY only for the last reference: dropping a non-last one is fine even
 * while a (properly referenced) thread is blocked. */
struct owned {
	chan_t *c; /* the thread's own reference */
	int rc;
	bool ok;
	tu_blocker_t blk;
};
static void *owned_recv(void *p)
{
	struct owned *o = p;
	tu_about_to_block(&o->blk);
	o->rc = chan_recv(o->c, NULL, &o->ok);
	int u = chan_unref(o->c);
	if (u)
		o->rc = 1000 + u;
	return NULL;
}
Test(chan_lifetime, non_last_unref_while_blocked, .timeout = 10)
{
	chan_t *c = chan_new(0, 0);
	struct owned o = {.c = chan_ref(c), .rc = -1};
	tu_go_t th = tu_spawn(owned_recv, &o);
	cr_assert(tu_wait_blocked(&o.blk, TU_BLOCK_TIMEOUT_NS));
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_unref(c), 0); /* not the last: the thread holds one */
	tu_join(th);
	cr_assert_eq(o.rc, 0);
	cr_assert_not(o.ok);
}

/*
 * The intended ownership pattern, many times: each thread gets its own
 * reference and drops it when done; whichever unref is last frees.  Under
 * ASan any use after free or double free shows up here.
 */
struct pair {
	chan_t *c;
	int n;
	int rc;
};
static void *ping_owner(void *p)
{
	struct pair *a = p;
	int rc = 0;
	for (int i = 0; i < a->n && !rc; i++)
		rc = chan_send(a->c, &i);
	if (!rc)
		rc = chan_close(a->c);
	int u = chan_unref(a->c);
	a->rc = rc ? rc : u;
	return NULL;
}
Test(chan_lifetime, owners_race_to_unref, .timeout = 20)
{
	for (int round = 0; round < 500; round++) {
		chan_t *c = chan_new(sizeof(int), (size_t)(round % 3));
		struct pair a = {.c = chan_ref(c), .n = 5, .rc = -1};
		tu_go_t th = tu_spawn(ping_owner, &a);
		int v, expect = 0;
		bool ok;
		for (;;) {
			cr_assert_eq(chan_recv(c, &v, &ok), 0);
			if (!ok)
				break;
			cr_assert_eq(v, expect++);
		}
		cr_assert_eq(expect, 5);
		cr_assert_eq(chan_unref(c), 0); /* may or may not be the last */
		tu_join(th);
		cr_assert_eq(a.rc, 0);
	}
}

/* A thread that timed out of a deadline wait no longer counts as blocked. */
Test(chan_lifetime, unref_after_timeout_ok, .timeout = 10)
{
	chan_t *c = chan_new(sizeof(int), 0);
	int v;
	cr_assert_eq(chan_recv_until(c, &v, NULL, chan_deadline_in(1000000)), ETIMEDOUT);
	cr_assert_eq(chan_send_until(c, &v, chan_deadline_in(1000000)), ETIMEDOUT);
	cr_assert_eq(chan_unref(c), 0);
}
