/*
 * tests/test_xb_util.h - helpers of the crossbeam-channel ports
 * (tests/test_xb_*.c), header-only, on top of testutil.h.
 *
 * Checks inside goroutines.  Criterion's assertions longjmp out of the test
 * body and must not run on a goroutine (a fiber's stack in fiber mode), so a
 * goroutine checks with XB_CHECK, which records the line of the first
 * failed check; the body asserts xb_ok() after joining (XB_ASSERT_OK).
 * Criterion runs each test in a process of its own, so one static slot
 * per test file is one slot per test.
 *
 * Events.  crossbeam's tests order their threads with thread::sleep; the
 * ports order them with events instead: an event is a zero-size channel,
 * set by closing it (every waiter, past and future, then passes).
 *
 * xb_sleep parks the caller (a fiber too) for at least @ns: used where a
 * test is about time or timeouts themselves, never to order events, and as
 * the pause between two polls of xb_wait_blocked.
 */
#ifndef GOCHAN_TESTS_TEST_XB_UTIL_H
#define GOCHAN_TESTS_TEST_XB_UTIL_H

#include <gochan/chan.h>
#include <gochan/select.h>
#include <stdatomic.h>

#include "testutil.h"

#define XB_MS ((int64_t)1000000)
/* Patience for an event that must come: generous, the machine is shared. */
#define XB_PATIENCE ((int64_t)30000000000)

/* The line of the first failed XB_CHECK, 0 if none.  Relaxed: read by the
 * body only after tu_join, which orders every goroutine's store before it. */
static atomic_int xb_failed_line;

#define XB_CHECK(cond)                                                                          \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			int xb_zero_ = 0;                                                       \
			atomic_compare_exchange_strong_explicit(&xb_failed_line, &xb_zero_,     \
								__LINE__, memory_order_relaxed, \
								memory_order_relaxed);          \
		}                                                                               \
	} while (0)

#define XB_ASSERT_OK()                                                               \
	cr_assert_eq(atomic_load_explicit(&xb_failed_line, memory_order_relaxed), 0, \
		     "a goroutine's check failed at line %d",                        \
		     atomic_load_explicit(&xb_failed_line, memory_order_relaxed))

static inline chan_t *xb_event(void)
{
	return chan_new(0, 0);
}

static inline void xb_set(chan_t *ev)
{
	XB_CHECK(chan_close(ev) == 0);
}

/* Wait for @ev; a missing event is a failed check, not a hang. */
static inline void xb_wait(chan_t *ev)
{
	bool ok = true;
	XB_CHECK(chan_recv_until(ev, NULL, &ok, chan_now() + XB_PATIENCE) == 0 && !ok);
}

/* Park for at least @ns (a select with no case and a deadline). */
static inline void xb_sleep(int64_t ns)
{
	int64_t end = chan_now() + ns;
	while (chan_now() < end)
		(void)chan_select(NULL, 0, end);
}

/*
 * xb_wait_blocked - tu_wait_blocked for a waiter that may be a fiber.
 * tu_wait_blocked polls with nanosleep, which on a fiber would hold its
 * worker thread: with one worker (GOFIBER_WORKERS=1), or both goroutines
 * on one worker, the goroutine waited for could then never run and park.
 * On a fiber this polls the same condition (three sightings in a row) and
 * parks between polls with xb_sleep, a select with a deadline, so the
 * worker runs the others meanwhile.  On a thread: tu_wait_blocked itself.
 */
static inline bool xb_wait_blocked(tu_blocker_t *b, int64_t timeout_ns)
{
	if (!gofiber_id())
		return tu_wait_blocked(b, timeout_ns);
	int64_t end = chan_now() + timeout_ns;
	int seen = 0;
	for (;;) {
		if (tu_blocked_now(b)) {
			if (++seen >= 3)
				return true;
		} else {
			seen = 0;
		}
		if (chan_now() > end)
			return false;
		xb_sleep(20000);
	}
}

/* Receive an int and return it, or -1000000 - rc on failure, or -999 when
 * the channel is closed: for XB_CHECK(xb_recv_int(c) == 7). */
static inline int xb_recv_int(chan_t *c)
{
	int v = -1;
	bool ok = false;
	int rc = chan_recv_until(c, &v, &ok, chan_now() + XB_PATIENCE);
	if (rc)
		return -1000000 - rc;
	return ok ? v : -999;
}

static inline int xb_send_int(chan_t *c, int v)
{
	return chan_send(c, &v);
}

#endif
