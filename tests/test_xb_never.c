/*
 * tests/test_xb_never.c - crossbeam-channel's tests/never.rs ported to Go's
 * nil channel: crossbeam's never() is a receiver that is never ready, which
 * in gochan is a NULL channel in a select case (include/gochan/select.h:
 * "a case whose channel is NULL is never ready").
 *
 * Mapping: never() -> NULL; unbounded() -> a buffered channel large enough
 * for the test (gochan has no unbounded channel); tick(100 ms) ->
 * gotime_tick(5 ms); select! default(d) -> chan_select with a deadline.  A
 * plain operation on NULL is EINVAL here (documented: a programming error),
 * so never's try_recv is the select-with-default form, Go's
 * `select { case <-nil: default: }`; r.len() and r.capacity() are chan_len
 * and chan_cap of NULL, both 0.
 *
 * Ported: smoke, optional, tick_n, capacity, len_empty_full, try_recv,
 * recv_timeout (7); all of never.rs.  recv_timeout asserts only the lower
 * bounds (crossbeam also bounds the time from above).  tick_n's timeout
 * ends the loop only once the ticker was replaced by never (a timeout that
 * a stalled machine lets expire between two ticks just goes round again).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <gochan/time.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_never);

Test(xb_never, smoke)
{
	int v;
	chan_t *never = NULL;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(never, &v, NULL)), CHAN_DEFAULT);
}

Test(xb_never, optional)
{
	chan_t *c = chan_new(sizeof(int), 2);
	cr_assert_eq(xb_send_int(c, 1), 0);
	cr_assert_eq(xb_send_int(c, 2), 0);
	int v = 0;
	chan_t *r = c; /* Some(&r) */
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r, &v, NULL)), 0);
	cr_assert_eq(v, 1);
	r = NULL; /* None: unwrap_or(&never()) */
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r, &v, NULL)), CHAN_DEFAULT);
	cr_assert_eq(chan_unref(c), 0);
}

Test(xb_never, tick_n, .timeout = 60)
{
	chan_t *tick = gotime_tick(5 * XB_MS), *r = tick;
	int step = 0;
	for (;;) {
		int64_t v;
		int k = CHAN_SELECT(chan_now() + 50 * XB_MS, CHAN_RECV(r, &v, NULL));
		if (k == 0)
			step++;
		else if (r == NULL)
			break;
		cr_assert(k == 0 || k == CHAN_TIMEOUT, "select: %d", k);
		if (step == 10)
			r = NULL; /* r = never() */
	}
	cr_assert_eq(step, 10);
	cr_assert_eq(chan_unref(tick), 0);
}

Test(xb_never, capacity)
{
	cr_assert_eq(chan_cap(NULL), 0);
}

Test(xb_never, len_empty_full)
{
	cr_assert_eq(chan_len(NULL), 0);
	cr_assert_eq(chan_len(NULL), chan_cap(NULL)); /* empty, and full */
}

Test(xb_never, try_recv, .timeout = 30)
{
	int v;
	chan_t *never = NULL;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(never, &v, NULL)), CHAN_DEFAULT);
	cr_assert_eq(chan_try_recv(never, &v, NULL), EINVAL); /* the plain call */
	xb_sleep(10 * XB_MS); /* crossbeam: 100 ms; time passing changes nothing */
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(never, &v, NULL)), CHAN_DEFAULT);
}

Test(xb_never, recv_timeout, .timeout = 30)
{
	int v;
	chan_t *never = NULL;
	int64_t start = chan_now();
	cr_assert_eq(CHAN_SELECT(start + 20 * XB_MS, CHAN_RECV(never, &v, NULL)), CHAN_TIMEOUT);
	cr_assert_geq(chan_now() - start, 20 * XB_MS);
	cr_assert_eq(CHAN_SELECT(chan_now() + 20 * XB_MS, CHAN_RECV(never, &v, NULL)),
		     CHAN_TIMEOUT);
	cr_assert_geq(chan_now() - start, 40 * XB_MS);
}
