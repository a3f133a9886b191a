/*
 * tests/test_time_ticker.c - tickers and Tick: Go's TestTicker and
 * TestAfterStress, NewTicker(d <= 0) EINVAL, Tick(d <= 0) == nil channel,
 * dropping ticks for a slow receiver, Stop/Reset leave no stale tick.
 */
#include "tests/leakcheck.h"
#include "tests/test_bubble_util.h"
#include "tests/test_time_util.h"

TB_SUITE(time_ticker);

TB_TEST(time_ticker, nonpositive_period_einval, .timeout = 10)
{
	static const int64_t bad[] = {0, -1, INT64_MIN};
	for (size_t i = 0; i < 3; i++) {
		errno = 0;
		cr_assert_null(gotime_ticker_new(bad[i]));
		cr_assert_eq(errno, EINVAL);
	}
	gotime_ticker_t *tk = gotime_ticker_new(TT_FAR);
	cr_assert_not_null(tk);
	cr_assert_eq(gotime_ticker_reset(tk, 0), EINVAL);
	cr_assert_eq(gotime_ticker_reset(tk, -5), EINVAL);
	cr_assert_eq(gotime_ticker_reset(NULL, 1), EINVAL);
	cr_assert_null(gotime_ticker_chan(NULL));
	gotime_ticker_stop(NULL);
	gotime_ticker_free(NULL);
	gotime_ticker_free(tk);
}

/* Tick(d <= 0) is Go's nil channel: never ready in a select. */
TB_TEST(time_ticker, tick_nonpositive_is_nil, .timeout = 10)
{
	errno = 0;
	cr_assert_null(gotime_tick(0));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(gotime_tick(-GOTIME_SECOND));
	chan_t *nil = gotime_tick(-1);
	int64_t v;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(nil, &v, NULL)), CHAN_DEFAULT);
	int64_t t0 = chan_now();
	cr_assert_eq(CHAN_SELECT(chan_now() + 5 * TT_MS, CHAN_RECV(nil, &v, NULL)), CHAN_TIMEOUT);
	TB_EXACT(chan_now() - t0, 5 * TT_MS);
}

/* TestTicker: ticks come every period, each value a due time on the grid. */
TB_TEST(time_ticker, ticks_on_period_grid, .timeout = 20)
{
	const int64_t d = 2 * TT_MS;
	int64_t t0 = chan_now();
	gotime_ticker_t *tk = gotime_ticker_new(d);
	cr_assert_not_null(tk);
	chan_t *c = gotime_ticker_chan(tk);
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_cap(c), 0);
	int64_t first = tt_recv(c), prev = first;
	cr_assert_geq(first, t0 + d);
	TB_EXACT(first, t0 + d);
	for (int i = 1; i < 10; i++) {
		int64_t v = tt_recv(c);
		cr_assert_gt(v, prev, "ticks out of order");
		cr_assert_eq((v - first) % d, 0, "tick %d off the grid: %lld", i,
			     (long long)(v - first));
		cr_assert_leq(v, chan_now());
		TB_EXACT(v, t0 + (i + 1) * d); /* no tick late, none dropped */
		prev = v;
	}
	cr_assert_geq(chan_now() - t0, 10 * d, "10 ticks came too fast");
	TB_EXACT(chan_now() - t0, 10 * d);
	gotime_ticker_free(tk);
}

/* A slow receiver: the channel holds the first tick, later ones are
 * dropped, and the next tick received is a fresh one (not a backlog). */
TB_TEST(time_ticker, drops_ticks_for_slow_receiver, .timeout = 20)
{
	const int64_t d = TT_MS;
	int64_t t0 = chan_now();
	gotime_ticker_t *tk = gotime_ticker_new(d);
	int64_t t1 = chan_now();
	cr_assert_not_null(tk);
	chan_t *c = gotime_ticker_chan(tk);

	/* 20 periods pass unreceived: every tick due before p is handled. */
	int64_t p = chan_now() + 20 * d;
	tt_flush(20 * d);
	int64_t v1, v2;
	cr_assert(tt_ready(c, &v1), "no tick kept");
	cr_assert_geq(v1, t0 + d);
	cr_assert_leq(v1, t1 + d, "the kept tick is not the first one");
	v2 = tt_recv(c);
	cr_assert_geq(v2, p, "an old tick was queued instead of dropped");
	cr_assert_eq((v2 - v1) % d, 0);
	TB_EXACT(v1, t0 + d);
	TB_EXACT(v2, t0 + 21 * d); /* the first tick after the flush's t0 + 20 d + 1 */
	gotime_ticker_free(tk);
}

TB_TEST(time_ticker, stop_discards_and_ends_ticks, .timeout = 20)
{
	gotime_ticker_t *tk = gotime_ticker_new(TT_MS);
	cr_assert_not_null(tk);
	chan_t *c = gotime_ticker_chan(tk);
	tt_recv(c);
	tt_flush(3 * TT_MS); /* a tick is waiting */
	gotime_ticker_stop(tk);
	cr_assert(!tt_ready(c, NULL), "stale tick after Stop");
	tt_flush(5 * TT_MS);
	cr_assert(!tt_ready(c, NULL), "tick after Stop");
	gotime_ticker_stop(tk); /* twice is fine */
	gotime_ticker_free(tk);
}

TB_TEST(time_ticker, reset_period_and_no_stale, .timeout = 20)
{
	gotime_ticker_t *tk = gotime_ticker_new(TT_FAR);
	cr_assert_not_null(tk);
	chan_t *c = gotime_ticker_chan(tk);

	int64_t t0 = chan_now();
	cr_assert_eq(gotime_ticker_reset(tk, 2 * TT_MS), 0);
	int64_t v = tt_recv(c);
	cr_assert_geq(v, t0 + 2 * TT_MS);
	TB_EXACT(v, t0 + 2 * TT_MS);

	tt_flush(3 * TT_MS); /* a tick is waiting */
	cr_assert_eq(gotime_ticker_reset(tk, TT_FAR), 0);
	cr_assert(!tt_ready(c, NULL), "stale tick after Reset");
	tt_flush(5 * TT_MS);
	cr_assert(!tt_ready(c, NULL), "tick at the old period after Reset");

	/* Stopped, then Reset: ticks again at the new period. */
	gotime_ticker_stop(tk);
	t0 = chan_now();
	cr_assert_eq(gotime_ticker_reset(tk, TT_MS), 0);
	int64_t a = tt_recv(c), b = tt_recv(c);
	cr_assert_geq(a, t0 + TT_MS);
	cr_assert_eq((b - a) % TT_MS, 0);
	TB_EXACT(a, t0 + TT_MS);
	TB_EXACT(b, a + TT_MS);
	cr_assert_gt(b, a);
	gotime_ticker_free(tk);
}

/* Tick: the channel of a ticker without a handle (dropping the last
 * reference stops it: tests/test_time_orphan.c). */
TB_TEST(time_ticker, tick_delivers, .timeout = 10)
{
	int64_t t0 = chan_now();
	chan_t *c = gotime_tick(TT_MS);
	cr_assert_not_null(c);
	int64_t a = tt_recv(c), b = tt_recv(c), e = tt_recv(c);
	cr_assert_geq(a, t0 + TT_MS);
	cr_assert(a < b && b < e);
	TB_EXACT(a, t0 + TT_MS);
	TB_EXACT(e, t0 + 3 * TT_MS);
	cr_assert_eq(chan_unref(c), 0);
}

/* TestAfterStress: a ticker with a tiny period keeps the timer thread busy;
 * 100 ticks are still received and After timers still fire. */
TB_TEST(time_ticker, after_stress_tiny_period, .timeout = 20)
{
	gotime_ticker_t *tk = gotime_ticker_new(1);
	cr_assert_not_null(tk);
	for (int i = 0; i < 100; i++) {
		tt_recv(gotime_ticker_chan(tk));
		if (i % 10 == 0) {
			chan_t *c = gotime_after(1000);
			tt_recv(c);
			chan_unref(c);
		}
	}
	gotime_ticker_stop(tk);
	cr_assert(!tt_ready(gotime_ticker_chan(tk), NULL));
	gotime_ticker_free(tk);
}

/* Tickers in a select loop with a timer and a data channel: Go's usual
 * "ticker + timeout" loop. */
TB_TEST(time_ticker, select_loop_ticker_and_timeout, .timeout = 20)
{
	int64_t t0 = chan_now();
	gotime_ticker_t *tk = gotime_ticker_new(TT_MS);
	gotime_timer_t *timeout = gotime_timer_new(15 * TT_MS);
	chan_t *data = chan_new(sizeof(int), 0);
	cr_assert_not_null(tk);
	cr_assert_not_null(timeout);
	int ticks = 0, early = 0; /* early: ticks due no later than the timeout */
	int64_t v, w = 0, vs[1000];
	for (bool done = false; !done;) {
		switch (CHAN_SELECT(chan_now() + TT_PATIENCE,
				    CHAN_RECV(gotime_ticker_chan(tk), &v, NULL),
				    CHAN_RECV(gotime_timer_chan(timeout), &w, NULL),
				    CHAN_RECV(data, NULL, NULL))) {
		case 0:
			cr_assert_lt(ticks, 1000);
			vs[ticks++] = v;
			break;
		case 1:
			done = true;
			break;
		default:
			cr_assert_fail("unexpected select result");
		}
	}
	/* The first tick is due before the timeout and the one timer thread
	 * sends in deadline order, so it came before the timeout's value.  The
	 * select may still have picked the timeout first (a loaded machine can
	 * run the loop only once both are ready): then it is waiting. */
	if (ticks == 0 && tt_ready(gotime_ticker_chan(tk), &v))
		cr_assert_leq(v, w, "the first tick came after the timeout");
	else
		cr_assert_geq(ticks, 1, "no tick before the timeout");
	for (int i = 0; i < ticks; i++)
		early += vs[i] <= w;
	/* ticks are due at t0' + k ms with t0' >= t0; the timeout at w */
	cr_assert_leq(early, (w - t0) / TT_MS, "more ticks than periods");
	TB_EXACT(w, t0 + 15 * TT_MS);
	gotime_ticker_free(tk);
	gotime_timer_free(timeout);
	chan_unref(data);
}
