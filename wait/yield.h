/*
 * wait/yield.h - the wait layer's one sched_yield, taken only while yielding
 * pays on this thread (issue 21).  Not installed; not for users.
 *
 * A yield hands this CPU to another runnable thread.  When that thread is
 * the counterpart of our wait (threads outnumber cores, or the scheduler put
 * both on one CPU), it completes us and the hand-off needs no FUTEX_WAKE:
 * that is why park, the ring's retry and the channel lock yield before they
 * sleep.  When the CPU is taken by work that does not serve us (another
 * process's busy threads, or CPU-bound threads of this program), the yield
 * returns only after that thread's whole time slice, milliseconds later,
 * and every hand-off pays one: with two busy loops on a 2-vCPU machine Go's
 * doubleselect ran 7.4-20.9 s instead of 0.14 s, where sleeping on the futex
 * at once (the scheduler favours a woken sleeper) gave 0.58-0.84 s.
 *
 * So each thread learns from its own yields.  A yield that returned within
 * CHAN_YIELD_LATE_NS, or after which the wait it served was over, paid (or
 * cost nothing): yielding stays on.  A late one that did not end the wait
 * turns yielding off for this thread for a back-off period: CHAN_YIELD_OFF_MIN_NS,
 * doubled by each further late probe up to CHAN_YIELD_OFF_MAX_NS (1 s).  At
 * the end of the period the next wait probes with one yield again.  So on a
 * busy machine a thread loses at most one time slice a second to a yield,
 * and once the machine is quiet again the first probe (within a second)
 * turns yielding back on.  Per thread, no shared state: no cache line is
 * written by two CPUs here, and each thread sees the CPUs it runs on.
 *
 * The state is two thread-local words; nothing here is atomic.
 */
#ifndef GOCHAN_WAIT_YIELD_H
#define GOCHAN_WAIT_YIELD_H

#include <stdbool.h>
#include <stdint.h>

/* Longer than a yield to a runnable sibling that blocks again soon (a few
 * us) and far shorter than a time slice (0.75-4 ms under CFS). */
#ifndef CHAN_YIELD_LATE_NS
#define CHAN_YIELD_LATE_NS 200000
#endif
#ifndef CHAN_YIELD_OFF_MIN_NS
#define CHAN_YIELD_OFF_MIN_NS 2000000
#endif
#ifndef CHAN_YIELD_OFF_MAX_NS
#define CHAN_YIELD_OFF_MAX_NS 1000000000
#endif

/*
 * gowait__yield - sched_yield(), unless this thread has learnt that yields do
 * not pay now.  @now is chan_now() as the caller last read it (the gate
 * needs no clock read of its own).  @done, when non-NULL, tells whether the
 * wait this yield serves is over (called once, after a late yield: a late
 * yield that ended the wait paid).  Returns false without yielding while
 * yields are off: the caller should sleep instead (or queue and sleep).
 */
bool gowait__yield(int64_t now, bool (*done)(const void *arg), const void *arg);

/* Whether this thread yields now (tests and diagnostics). */
bool gowait__yield_on(int64_t now);

#endif
