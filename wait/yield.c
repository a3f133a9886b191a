/* wait/yield.c - see wait/yield.h. */
#include "wait/yield.h"

#include <gochan/chan.h>
#include <sched.h>

/* Yields are off until this chan_now() time; the back-off of the next late
 * probe.  Thread-local: each thread learns from its own yields. */
static _Thread_local int64_t off_until;
static _Thread_local int64_t off_ns;

bool gowait__yield_on(int64_t now)
{
	return now >= off_until;
}

bool gowait__yield(int64_t now, bool (*done)(const void *arg), const void *arg)
{
	if (now < off_until)
		return false;
	sched_yield();
	int64_t after = chan_now();
	if (after - now <= CHAN_YIELD_LATE_NS || (done && done(arg))) {
		off_ns = 0; /* prompt, or it paid: keep yielding */
		return true;
	}
	/* Late and our wait still on: the CPU went to work that does not
	 * serve us.  Stop yielding for a while, longer each time in a row. */
	off_ns = off_ns == 0 ? CHAN_YIELD_OFF_MIN_NS
	       : 2 * off_ns > CHAN_YIELD_OFF_MAX_NS ? CHAN_YIELD_OFF_MAX_NS
						  : 2 * off_ns;
	off_until = after + off_ns;
	return true;
}
