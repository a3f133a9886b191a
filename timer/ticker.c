/*
 * timer/ticker.c - tickers (Go's NewTicker, Ticker.Stop/Reset) and Tick: a
 * ticker is a channel timer with a period, so all of it is timer.c's
 * machinery; the timer thread re-arms it at each tick (thread.c).
 */
#include <errno.h>

#include "timer/timer_impl.h"

gotime_ticker_t *gotime_ticker_new(int64_t d)
{
	if (d <= 0) {
		errno = EINVAL;
		return NULL;
	}
	return (gotime_ticker_t *)gotime__chan_timer_new(d, d, NULL);
}

chan_t *gotime_ticker_chan(const gotime_ticker_t *tk)
{
	return tk ? tk->t.ch : NULL;
}

void gotime_ticker_stop(gotime_ticker_t *tk)
{
	int err;
	if (tk)
		gotime__chan_timer_set(&tk->t, false, 0, 0, &err);
}

int gotime_ticker_reset(gotime_ticker_t *tk, int64_t d)
{
	int err;
	if (!tk || d <= 0)
		return EINVAL;
	gotime__chan_timer_set(&tk->t, true, d, d, &err);
	return 0;
}

void gotime_ticker_free(gotime_ticker_t *tk)
{
	if (tk)
		gotime_timer_free(&tk->t);
}

chan_t *gotime_tick(int64_t d)
{
	struct gotime_timer *t;
	chan_t *c;

	if (d <= 0) {
		errno = EINVAL;
		return NULL;
	}
	t = gotime__chan_timer_new(d, d, &c);
	if (!t)
		return NULL;
	/* Never stopped by a user: the heap keeps it until the timer thread
	 * finds it orphaned (every reference to c dropped) at a tick, or
	 * gotime_shutdown() does. */
	timer_unref(t);
	return c;
}
