/*
 * wait/clock.h - the wait layer's clock: the monotonic time line every
 * deadline of the library is on.  chan_now() and chan_deadline_in() are
 * public (declared in gochan/chan.h, the one public header the wait layer
 * includes: for its own two functions and CHAN_FOREVER) and defined in
 * wait/clock.c; the helpers here are shared by chan/, select/, timer/ and
 * context/.  Not installed; not for users.
 */
#ifndef GOCHAN_WAIT_CLOCK_H
#define GOCHAN_WAIT_CLOCK_H

#include <gochan/chan.h>
#include <stdint.h>

/* No deadline (the wait layer's name for CHAN_FOREVER). */
#define GOWAIT_FOREVER CHAN_FOREVER

/*
 * gowait__time_add - @t + @d on the chan_now() time line, saturating at
 * INT64_MAX / INT64_MIN instead of overflowing: THE "now plus d" of the
 * library (chan_deadline_in, timer arming and ticker periods, context
 * timeouts all use it).  Either argument may be negative.
 */
static inline int64_t gowait__time_add(int64_t t, int64_t d)
{
	int64_t r;

	if (__builtin_add_overflow(t, d, &r))
		return d > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

#endif
