/*
 * tests/test_context_util.h - helpers shared by the context suites
 * (tests/test_context_*.c) and tests/stress/stress_context.c; no Criterion.
 *
 *   done_now(c)         whether c's Done channel is closed right now (Go:
 *                       select { case <-c.Done(): default: }).
 *   wait_no_live(p)     wait (at most p ns) until no context object is
 *                       alive (ctx__live(), context/ctx_internal.h).
 */
#ifndef GOCHAN_TESTS_TEST_CONTEXT_UTIL_H
#define GOCHAN_TESTS_TEST_CONTEXT_UTIL_H

#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/select.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "context/ctx_internal.h"

static inline bool done_now(ctx_t *c)
{
	chan_t *d = ctx_done(c);
	return d && CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(d, NULL, NULL)) == 0;
}

/*
 * Wait until no context object is alive: the last release may happen on the
 * timer thread or an AfterFunc thread, which releases its registration only
 * after its function returned, so this is how a test knows the library's
 * threads are finished with everything they were given (the analog of
 * joining them).  A condition, polled every 100 us; false after @patience.
 */
static inline bool wait_no_live(int64_t patience)
{
	/* In a bubble: once every other fiber is blocked (an AfterFunc's has
	 * ended), the count is final; the clock does not move while polling. */
	if (gobubble_now() >= 0) {
		(void)gobubble_wait();
		return ctx__live() == 0;
	}
	int64_t end = chan_now() + patience;
	while (ctx__live() != 0) {
		if (chan_now() > end)
			return false;
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
	return true;
}

#endif
