/*
 * tests/test_time_util.h - helpers shared by the tests/test_time_*.c suites.
 *
 * tt_flush(d): block until the timer thread has handled every timer due
 * before chan_now() + d (testutil.h's tu_timers_flush, failing the test if
 * its probe timer does not run).  This is how the suites "let a timer expire
 * without receiving it" without sleeping.
 */
#ifndef GOCHAN_TESTS_TEST_TIME_UTIL_H
#define GOCHAN_TESTS_TEST_TIME_UTIL_H

#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <stdint.h>

#include "testutil.h"

#define TT_MS GOTIME_MILLISECOND
#define TT_FAR GOTIME_HOUR               /* a deadline no test reaches */
#define TT_PATIENCE (10 * GOTIME_SECOND) /* "does not block": beyond any real wait */

/* Wait until every timer due before chan_now() + @d has fired. */
static inline void tt_flush(int64_t d)
{
	cr_assert(tu_timers_flush(d, TT_PATIENCE), "probe timer did not run");
}

/* Receive one int64_t from @c, failing the test if none comes in time. */
static inline int64_t tt_recv(chan_t *c)
{
	int64_t v = 0;
	bool ok = false;
	int rc = chan_recv_until(c, &v, &ok, chan_now() + TT_PATIENCE);
	cr_assert_eq(rc, 0, "no value from timer channel (rc %d)", rc);
	cr_assert(ok);
	return v;
}

/* Whether @c has a value ready right now (it is then received into *@v). */
static inline bool tt_ready(chan_t *c, int64_t *v)
{
	int64_t tmp;
	bool ok = false;
	int rc = chan_try_recv(c, v ? v : &tmp, &ok);
	cr_assert(rc == 0 || rc == EAGAIN, "chan_try_recv: %d", rc);
	if (rc == 0)
		cr_assert(ok, "a timer channel was closed");
	return rc == 0;
}

#endif
