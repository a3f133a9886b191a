/* wait/yield.c - see wait/yield.h. */
#include "wait/yield.h"

#include <gochan/chan.h>
#include <sched.h>
#include <stdatomic.h>

/*
 * The state is the process's, not a thread's: whether the CPUs are taken by
 * work that does not serve us is a property of the machine, and a program
 * of many short-lived threads (Go's sieve: one per prime) would otherwise
 * pay one late probe per thread.  Both words are read on every yield and
 * written only when the decision changes (a late yield, a probe, the return
 * of prompt yields), so their line stays shared read-mostly.  Relaxed
 * throughout: they order nothing, a stale read costs at most one extra or
 * one missed yield, and the probe CAS only elects one prober.
 *
 * off_until: chan_now() time until which nobody yields (0: yields on).
 * off_ns:    the back-off last applied (0: the last probe was prompt).
 */
static _Atomic int64_t off_until;
static _Atomic int64_t off_ns;

bool gowait__yield_on(int64_t now)
{
	return now >= atomic_load_explicit(&off_until, memory_order_relaxed);
}

bool gowait__yield(int64_t now)
{
	int64_t until = atomic_load_explicit(&off_until, memory_order_relaxed);
	int64_t back = atomic_load_explicit(&off_ns, memory_order_relaxed);

	if (now < until)
		return false;
	/* After a back-off one thread probes: the one whose CAS moves
	 * off_until past the probe; the others sleep until it has decided. */
	if (back != 0 && !atomic_compare_exchange_strong_explicit(&off_until, &until,
								  now + CHAN_YIELD_OFF_MIN_NS,
								  memory_order_relaxed,
								  memory_order_relaxed))
		return false;
	sched_yield();
	int64_t after = chan_now();
	if (after - now > CHAN_YIELD_LATE_NS) {
		/* Late: the CPU went to work that does not serve us.  Nobody
		 * yields for a while, longer each time in a row. */
		back = back == 0 ? CHAN_YIELD_OFF_MIN_NS
		       : 2 * back > CHAN_YIELD_OFF_MAX_NS ? CHAN_YIELD_OFF_MAX_NS
							  : 2 * back;
		atomic_store_explicit(&off_ns, back, memory_order_relaxed);
		atomic_store_explicit(&off_until, after + back, memory_order_relaxed);
	} else if (back != 0) {
		/* A prompt probe: yields are back on for everyone. */
		atomic_store_explicit(&off_ns, 0, memory_order_relaxed);
		atomic_store_explicit(&off_until, 0, memory_order_relaxed);
	}
	return true;
}
