/*
 * tests/test_chan_util.h - helpers shared by the Criterion suites of
 * channels and select (tests/test_chan_*.c, tests/test_select_*.c).  They
 * assert with Criterion, so the stress programs, which have no Criterion,
 * use testutil.h alone.
 *
 *   MS, SHORT_NS, LONG_NS  "blocks" is a select whose SHORT_NS deadline
 *                          runs out; "does not block" one with LONG_NS.
 *   mk / unref             chan_new and chan_unref that fail the test on
 *                          error (unref's EBUSY: a waiter is still queued,
 *                          e.g. a stale one a select left behind).
 *   wait_parked            tu_wait_blocked, failing the test on timeout.
 *   struct selt, sel_run   a thread doing one chan_select, announcing it on
 *                          blk first (so the test can wait_parked on it).
 *   struct op, op_send, op_recv, op_send_until, op_recv_until
 *                          a thread doing one send or receive of an int,
 *                          announcing it on blk first.
 *   start_parked           start threads one at a time, each parked before
 *                          the next starts (so they queue in that order).
 */
#ifndef GOCHAN_TESTS_TEST_CHAN_UTIL_H
#define GOCHAN_TESTS_TEST_CHAN_UTIL_H

#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <stdint.h>

#include "testutil.h"

#define MS (1000000LL)
#define SHORT_NS (30 * MS)   /* "blocks": this deadline must run out */
#define LONG_NS (10000 * MS) /* "does not block": far beyond any real wait */

static inline chan_t *mk(size_t esz, size_t cap)
{
	chan_t *c = chan_new(esz, cap);
	cr_assert_not_null(c, "chan_new(%zu, %zu) failed", esz, cap);
	return c;
}

/* Drop a reference; on the last one EBUSY would mean a stale waiter. */
static inline void unref(chan_t *c)
{
	int rc = chan_unref(c);
	cr_assert_eq(rc, 0, "chan_unref: %d (EBUSY: a waiter is still queued)", rc);
}

static inline void wait_parked(tu_blocker_t *b)
{
	cr_assert(tu_wait_blocked(b, TU_BLOCK_TIMEOUT_NS), "thread never parked");
}

/* A thread doing one select, announcing first: rc is what it returned. */
struct selt {
	chan_case_t *cs;
	size_t n;
	int64_t deadline;
	int rc;
	tu_blocker_t blk;
};

static inline void *sel_run(void *p)
{
	struct selt *a = p;
	tu_about_to_block(&a->blk);
	a->rc = chan_select(a->cs, a->n, a->deadline);
	return NULL;
}

/* A thread doing one send or receive of an int on c, announcing first. */
struct op {
	chan_t *c;
	int value;        /* send: the value to send; receive: what it got */
	bool ok;          /* receive: its ok */
	int rc;           /* what the call returned */
	int64_t deadline; /* the _until calls' deadline */
	tu_blocker_t blk;
};

static inline void *op_send(void *p)
{
	struct op *a = p;
	tu_about_to_block(&a->blk);
	a->rc = chan_send(a->c, &a->value);
	return NULL;
}

static inline void *op_recv(void *p)
{
	struct op *a = p;
	tu_about_to_block(&a->blk);
	a->rc = chan_recv(a->c, &a->value, &a->ok);
	return NULL;
}

static inline void *op_send_until(void *p)
{
	struct op *a = p;
	tu_about_to_block(&a->blk);
	a->rc = chan_send_until(a->c, &a->value, a->deadline);
	return NULL;
}

static inline void *op_recv_until(void *p)
{
	struct op *a = p;
	tu_about_to_block(&a->blk);
	a->rc = chan_recv_until(a->c, &a->value, &a->ok, a->deadline);
	return NULL;
}

/* Start fn(&a[i]) for i < n one at a time, each parked before the next
 * starts, so that they queue on their channel in this order.  The caller
 * fills in a[] first. */
static inline void start_parked(tu_go_t *th, struct op *a, int n, void *(*fn)(void *))
{
	for (int i = 0; i < n; i++) {
		th[i] = tu_spawn(fn, &a[i]);
		cr_assert(tu_wait_blocked(&a[i].blk, TU_BLOCK_TIMEOUT_NS),
			  "thread %d never blocked", i);
	}
}

#endif
