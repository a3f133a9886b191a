/* wait/yield.c - see wait/yield.h. */
#include "wait/yield.h"

#include "wait/bubble.h"
#include "wait/stats.h"

#include <gochan/chan.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <urcu/arch.h>

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
 * off_until: gowait__mono_now() time until which nobody yields (0: yields on;
 *            past but not 0: the next yield is the probe).
 * off_ns:    the back-off last applied (0: none yet).
 * late_at:   when the last late yield came back.  A late yield within
 *            CHAN_YIELD_MEMORY_NS of the previous one doubles the back-off
 *            even if a prompt probe reopened the gate in between (the
 *            load is still there: the probe's yield happened to go to our
 *            own counterpart); one after a longer quiet starts again at
 *            CHAN_YIELD_OFF_MIN_NS.
 */
static _Atomic int64_t off_until;
static _Atomic int64_t off_ns;
static _Atomic int64_t late_at;

/*
 * Whose work took the CPU during a late yield: the answer of the last
 * window.  At most once per CHAN_YIELD_WINDOW_NS (one thread, elected by
 * the CAS on win_t), the process's CPU time is read (a system call whose
 * cost grows with the thread count, hence not around every yield) and
 * compared with the wall time since the previous reading: if the program
 * used at least 3/4 of every CPU, its own runnable threads fill the
 * machine and a late yield went to them (ours = 1); if less, other
 * processes take the CPUs (ours = 0).  Relaxed: a stale verdict costs at
 * most one wrong decision, corrected within a window.
 */
static _Atomic int64_t win_t, win_cpu;
static _Atomic int win_ours = 1;

static int64_t process_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t online_cpus(void)
{
	static _Atomic int64_t n; /* 0: not read yet */
	int64_t v = atomic_load_explicit(&n, memory_order_relaxed);

	if (v == 0) {
		long r = sysconf(_SC_NPROCESSORS_ONLN);
		v = r > 0 ? r : 1;
		atomic_store_explicit(&n, v, memory_order_relaxed);
	}
	return v;
}

static bool late_went_to_us(int64_t now)
{
	int64_t t = atomic_load_explicit(&win_t, memory_order_relaxed);

	if (now - t >= CHAN_YIELD_WINDOW_NS &&
	    atomic_compare_exchange_strong_explicit(&win_t, &t, now, memory_order_relaxed,
						    memory_order_relaxed)) {
		int64_t c = process_cpu_ns();
		int64_t c0 = atomic_exchange_explicit(&win_cpu, c, memory_order_relaxed);

		if (t != 0)
			atomic_store_explicit(&win_ours,
					      (c - c0) * 4 >= 3 * online_cpus() * (now - t),
					      memory_order_relaxed);
	}
	return atomic_load_explicit(&win_ours, memory_order_relaxed);
}

/*
 * The re-placement rule (wait/yield.h): the time this thread last slept on a
 * futex (or first yielded), and whether it must sleep before it yields
 * again.  Its own: no atomics.
 */
static _Thread_local int64_t slept_at;
static _Thread_local bool must_sleep;

void gowait__slept(int64_t now)
{
	slept_at = now;
	must_sleep = false;
}

bool gowait__yield_on(int64_t now)
{
	return now >= atomic_load_explicit(&off_until, memory_order_relaxed);
}

bool gowait__yield_wait(int64_t now)
{
	/* A thread that has yielded for CHAN_YIELD_REPLACE_NS without sleeping
	 * sleeps once (it refuses its yields until gowait__slept): its wake-up
	 * lets the scheduler place it on an idle CPU, which a yield never
	 * does (wait/yield.h).  Off unless built with CHAN_YIELD_REPLACE_NS > 0
	 * (measured worse, wait/yield.h): then this is gowait__yield. */
	if (CHAN_YIELD_REPLACE_NS <= 0)
		return gowait__yield(now);
	if (caa_unlikely(must_sleep))
		return false;
	if (caa_unlikely(now - slept_at > CHAN_YIELD_REPLACE_NS)) {
		if (slept_at != 0) {
			must_sleep = true;
			GOWAIT_STAT(GOWAIT_ST_REPLACE);
			return false;
		}
		slept_at = now; /* this thread's first yield */
	}
	return gowait__yield(now);
}

bool gowait__yield(int64_t now)
{
	int64_t until = atomic_load_explicit(&off_until, memory_order_relaxed);

	if (now < until) {
		GOWAIT_STAT(GOWAIT_ST_YIELD_OFF);
		return false;
	}

	/* After a back-off one thread probes: the one whose CAS moves
	 * off_until past the probe; the others sleep until it has decided. */
	bool probe = until != 0;

	if (probe && !atomic_compare_exchange_strong_explicit(
			     &off_until, &until, now + CHAN_YIELD_OFF_MIN_NS, memory_order_relaxed,
			     memory_order_relaxed)) {
		GOWAIT_STAT(GOWAIT_ST_YIELD_OFF);
		return false;
	}
	GOWAIT_STAT(probe ? GOWAIT_ST_PROBE : GOWAIT_ST_YIELD);
	sched_yield();
	int64_t after = gowait__mono_now();
	bool late = after - now > CHAN_YIELD_LATE_NS;

	if (late && late_went_to_us(after)) {
		GOWAIT_STAT(GOWAIT_ST_LATE_OURS);
		late = false;
	}
	if (late) {
		/* Late: the CPU went to work that does not serve us.  Nobody
		 * yields for a while, longer each time in a row (within
		 * CHAN_YIELD_MEMORY_NS of the last late yield). */
		int64_t back = atomic_load_explicit(&off_ns, memory_order_relaxed);
		int64_t last = atomic_load_explicit(&late_at, memory_order_relaxed);

		GOWAIT_STAT(GOWAIT_ST_LATE);
		bool forgot = CHAN_YIELD_MEMORY_NS > 0 && after - last > CHAN_YIELD_MEMORY_NS;

		back = back == 0 || forgot                ? CHAN_YIELD_OFF_MIN_NS
		       : 2 * back > CHAN_YIELD_OFF_MAX_NS ? CHAN_YIELD_OFF_MAX_NS
							  : 2 * back;
		atomic_store_explicit(&off_ns, back, memory_order_relaxed);
		atomic_store_explicit(&late_at, after, memory_order_relaxed);
		/* The period actually applied is back minus up to a quarter,
		 * taken from the clock's low bits (wait/yield.h: so that the
		 * probes of a steady back-off do not lock onto the phase of a
		 * periodic load). */
		atomic_store_explicit(&off_until,
				      after + back - (after & 0xffffff) % (back / 4 + 1),
				      memory_order_relaxed);
	} else if (probe) {
		/* A probe that came back promptly, or late only because this
		 * program's own threads used the CPUs: yields pay again, back
		 * on for everyone.  off_ns stays: a late yield soon after
		 * doubles it (late_at). */
		GOWAIT_STAT(GOWAIT_ST_PROBE_PROMPT);
		/* Without the gate's memory (the default, wait/yield.h) a
		 * prompt probe also forgets the back-off. */
		if (CHAN_YIELD_MEMORY_NS <= 0)
			atomic_store_explicit(&off_ns, 0, memory_order_relaxed);
		atomic_store_explicit(&off_until, 0, memory_order_relaxed);
	}
	return true;
}
