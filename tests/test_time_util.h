/*
 * tests/test_time_util.h - helpers shared by the tests/test_time_*.c suites.
 *
 * tt_flush(d): block until the timer thread has handled every timer due
 * before chan_now() + d.  It arms a probe function timer strictly later than
 * those and waits for the probe to close a channel.  The single timer thread
 * pops timers in deadline order and carries out each popped batch in order,
 * so once the probe has run, every earlier timer has been delivered (its
 * value is in its channel) or run.  This is how the suites "let a timer
 * expire without receiving it" without sleeping.
 */
#ifndef GOCHAN_TESTS_TEST_TIME_UTIL_H
#define GOCHAN_TESTS_TEST_TIME_UTIL_H

#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <stdint.h>

#define TT_MS GOTIME_MILLISECOND
#define TT_FAR GOTIME_HOUR               /* a deadline no test reaches */
#define TT_PATIENCE (10 * GOTIME_SECOND) /* "does not block": beyond any real wait */

static void tt_probe_fn(void *arg)
{
	chan_t *c = arg;
	chan_close(c);
	chan_unref(c); /* the reference tt_flush gave this function */
}

/* Wait until every timer due before chan_now() + @d has fired. */
static inline void tt_flush(int64_t d)
{
	chan_t *c = chan_new(0, 0);
	bool ok = true;
	cr_assert_not_null(c);
	gotime_timer_t *p = gotime_after_func_at(chan_now() + d + 1, tt_probe_fn, chan_ref(c));
	cr_assert_not_null(p, "probe timer: errno %d", errno);
	cr_assert_eq(chan_recv_until(c, NULL, &ok, chan_now() + TT_PATIENCE + d), 0,
		     "probe timer did not run");
	cr_assert(!ok);
	gotime_timer_free(p);
	cr_assert_eq(chan_unref(c), 0);
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
