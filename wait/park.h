/*
 * wait/park.h - how a blocked operation waits and how it is claimed and woken:
 * the wait layer's park half (wait/lock.h is its lock, wait/clock.h its
 * clock, wait/futex.h its sleep; wait/lockrank.h the lock order).
 *
 * Every blocking call (a plain send/receive or a whole select) puts one
 * struct gowait_parker on its own stack; its users (chan/waitq.h) put one
 * waiter per channel case beside it, linked into that channel's send or
 * receive queue.  This is Go's g/sudog pair and crossbeam's Context/Entry
 * pair: the parker is the wait layer's, the waiter the channel's.  The
 * library's other waits (a WaitGroup's, wait/word.h) put theirs in a waiter
 * list keyed by the word they wait on, and are claimed and completed the
 * same way.
 *
 * The claim protocol (one CAS decides everything):
 *
 *   parker.state: GOWAIT_PARK_WAITING --CAS by a counterpart--> token (case index + 1)
 *                                     --CAS by the owner------> GOWAIT_PARK_ABANDONED
 *   (gowait__claim is the counterpart's CAS.  A waiter that cannot be
 *   abandoned and is in one queue only is claimed by unlinking it under its
 *   channel's lock, without the CAS: its state stays WAITING.)
 *
 *   A counterpart (sender, receiver or closer) that finds a waiter in a queue
 *   does so holding that channel's lock; it unlinks the waiter and tries the
 *   CAS.  If the CAS fails the waiter is stale (its select was already won on
 *   another channel, or its owner timed out) and is simply dropped: the owner
 *   unlinks its remaining waiters itself, under each channel's lock, before it
 *   returns.  If the CAS succeeds the counterpart owns the operation: it copies
 *   the value (still under the channel lock), records the outcome in
 *   waiter.success, and finally publishes completion through parker.futex.
 *
 *   An owner whose deadline passes tries the CAS to ABANDONED.  If that fails,
 *   a counterpart claimed it first and is about to complete: the owner waits
 *   (without deadline: the counterpart is running, not blocked) for
 *   completion and reports success, never a timeout.
 *
 * Wake-up (never a system call unless the owner really sleeps):
 *
 *   parker.futex: 0 = not complete, owner running or spinning
 *                 2 = not complete, owner asleep (or about to) on the futex
 *                 1 = complete
 *   The owner spins on futex == 0 for a short time budget, yields, then CASes
 *   0 -> 2 and sleeps on the futex while it reads 2.  The counterpart does
 *   exchange(futex, 1) and calls FUTEX_WAKE only if it read 2.  The exchange
 *   is a release that pairs with the owner's acquire load: the copied value
 *   and waiter.success are visible to the owner once it sees 1.  After the
 *   exchange the counterpart never touches the waiter or parker again (they
 *   live on the owner's stack, which may be gone by then); the FUTEX_WAKE on
 *   an address that may already be reused is harmless, since every futex
 *   sleeper in gochan re-checks its word in a loop.
 *
 * On a machine whose CPUs other processes take (issue 21), the yields stop
 * while they come back late (wait/yield.h's gate) and a wait that its spin
 * did not end sleeps on the futex.  crossbeam-channel instead never sleeps
 * in a capacity-1 hand-off (7-14 futex calls per 200,000 values, beside two
 * busy loops): it spins and yields, which wins when both threads happen to
 * run at once (~0.5 us a value) and starves it when they do not (0.1-1.2 ms
 * a value: a thread that yields in a loop is picked last by the scheduler,
 * while a woken sleeper is not).  Each gochan hand-off then costs a wake-up
 * or a yield behind a busy loop, 5-25 us, whichever the gate chooses; which
 * of the two modes a run lands in depends on where the scheduler put the
 * pair.  Measured per wait (perf stat of futex calls, yields, context
 * switches, wake-ups) in bench/results/loaded-2-diagnosis.txt; no spin
 * floor or yield setting tried there moved gochan's loaded medians beyond
 * their spread.
 *
 * The waiting agent.  A parker is waited on by an agent: a thread (agent
 * NULL), or a fiber of a fiber runtime (agent = that runtime's fiber).  Both
 * go through the same two calls, gowait__park_wait and gowait__complete, and
 * the same claim/abandon protocol; only how the owner sleeps and how the
 * completer wakes it differ:
 *
 *   thread: spin, yield (wait/yield.h), CAS futex 0 -> 2, FUTEX_WAIT; the
 *           completer's FUTEX_WAKE when it read 2.
 *   fiber:  ops->park(p, deadline): the fiber switches to its worker's
 *           scheduler and only there (Go's gopark unlockf) commits with the
 *           CAS futex 0 -> 2; if that CAS fails (the completer already
 *           exchanged in 1) it is resumed at once; else it stays parked until
 *           ops->ready(agent) or its deadline, then tries the abandon CAS
 *           exactly as a thread does (if it fails, it waits for futex == 1).
 *           The completer calls ops->ready(agent) when it read 2.
 *
 * The completer reads p->agent BEFORE its exchange (after it the parker may
 * be gone).  For a fiber its exchange is acq_rel, not only release, and the
 * runtime's commit CAS (0 -> 2) is a release: so the worker's last use of the
 * fiber (its run-queue link) happens before the completer's ready() reuses
 * it.  A thread's exchange stays release-only (wait/park.c).  The fiber
 * runtime installs its ops once (gowait__set_fiber_ops); until then a thread
 * pays one predictable branch for all this.
 */
#ifndef GOCHAN_WAIT_PARK_H
#define GOCHAN_WAIT_PARK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <urcu/compiler.h>

#include "wait/debug.h"
#include "wait/record.h"

#define GOWAIT_PARK_WAITING 0u
#define GOWAIT_PARK_ABANDONED UINT32_MAX

struct gowait_parker {
	_Atomic uint32_t state; /* WAITING, ABANDONED, or the claimer's token */
	_Atomic uint32_t futex; /* 0 running, 2 sleeping, 1 complete */
	void *agent;            /* the fiber that waits; NULL: a thread.  Set
				   once by gowait__parker_init */
};

/*
 * The fiber runtime's side of the agent interface (see above).  All three
 * are called with no lock of wait/lockrank.h held.
 *   self:  the fiber running on this thread, or NULL (a plain thread, or a
 *          worker thread on its scheduler context).
 *   park:  wait for @p as described above (the commit CAS 0 -> 2 at least
 *          a release, see above); returns exactly what the thread path
 *          returns: 0 (claimed and completed; the claimer's writes visible,
 *          acquire) or ETIMEDOUT (abandoned).
 *   ready: make @agent runnable (on its worker or any) and wake that worker
 *          if it is idle; may be called from any thread or fiber.
 *   bubble_of: the bubble (wait/bubble.h) @agent belongs to, or NULL;
 *          called by gowait__complete before its exchange, only while a
 *          bubble runs (gowait__bubbles_live).
 */
struct gowait__bubble;
struct gowait_fiber_ops {
	void *(*self)(void);
	int (*park)(struct gowait_parker *p, int64_t deadline);
	void (*ready)(void *agent);
	struct gowait__bubble *(*bubble_of)(void *agent);
};

/*
 * gowait__set_fiber_ops - install the fiber runtime's ops (once, when it
 * first starts; a release store that pairs with the acquire loads in
 * gowait__self, gowait__park_wait and gowait__complete).  NULL until then.
 */
void gowait__set_fiber_ops(const struct gowait_fiber_ops *ops);

/* The installed ops, or NULL (acquire: pairs with gowait__set_fiber_ops). */
extern const struct gowait_fiber_ops *_Atomic gowait__fiber_ops;

static inline const struct gowait_fiber_ops *gowait__ops(void)
{
	return atomic_load_explicit(&gowait__fiber_ops, memory_order_acquire);
}

/* gowait__self - ops ? ops->self() : NULL: the waiting agent that a parker
 * initialised on this thread now gets. */
static inline void *gowait__self(void)
{
	const struct gowait_fiber_ops *ops = gowait__ops();

	return caa_unlikely(ops != NULL) ? ops->self() : NULL;
}

static inline void gowait__parker_init(struct gowait_parker *p)
{
	atomic_init(&p->state, GOWAIT_PARK_WAITING);
	atomic_init(&p->futex, 0);
	p->agent = gowait__self();
}

/*
 * gowait__claim - try to become the one counterpart of @p's owner, recording
 * @token (non-zero, not GOWAIT_PARK_ABANDONED: the case index + 1 for
 * channels) for the owner.  The caller holds the lock that guards the queue
 * it found @p's waiter in.  acq_rel: acquire so that we see the owner's
 * waiter fields, release so that the owner, if it later fails its abandon
 * CAS, sees that the claim came first.
 */
static inline bool gowait__claim(struct gowait_parker *p, uint32_t token)
{
	uint32_t expected = GOWAIT_PARK_WAITING;

	GOWAIT_ASSERT(token != GOWAIT_PARK_WAITING && token != GOWAIT_PARK_ABANDONED);
	return atomic_compare_exchange_strong_explicit(&p->state, &expected, token,
						       memory_order_acq_rel, memory_order_relaxed);
}

/*
 * gowait__complete - publish completion of a claimed parker and wake its
 * owner (thread: FUTEX_WAKE; fiber: ops->ready), only if it sleeps.  After
 * this call @p may be gone.
 */
void gowait__complete(struct gowait_parker *p);

/*
 * gowait__park_wait - THE way a blocked operation waits (plain send/receive
 * and select alike, threads and fibers alike).  Parks until a counterpart
 * claims and completes @p, or until @deadline (GOWAIT_FOREVER: none) passes.
 * On the deadline it tries to abandon @p (the CAS to GOWAIT_PARK_ABANDONED);
 * if a counterpart claimed it first, that counterpart is running and about
 * to complete, so it waits for the completion without a deadline.  No lock
 * may be held (wait/lockrank.h; checked with -DGOCHAN_DEBUG).
 *
 * Returns 0 when claimed and completed: the claimer's writes (the value,
 * waiter.success, parker.state) are visible (acquire).  Returns ETIMEDOUT
 * when abandoned: nobody will ever complete @p, and the caller must unlink
 * its still-queued waiters, under their channels' locks, before they go out
 * of scope.
 *
 * While it waits, the agent is listed in the blocked-operation record as
 * blocked in @site's operation (wait/record.h; godiag_dump).  When it
 * returns, no dumper reads @site's channels or cases any more.
 */
int gowait__park_wait(struct gowait_parker *p, int64_t deadline, const struct gowait__site *site);

/*
 * gowait__park_wait_long - gowait__park_wait for a wait that is expected to
 * last (a WaitGroup's, wait/word.h): on a thread it sleeps at once, without
 * the spin and yield phases, as Go's semacquire parks at once (the spin
 * pays for a channel hand-off arriving within microseconds; against a task
 * that runs for a while it only burns CPU the task could use: measured in
 * bench/results/2026-12-07-word-wait-2vcpu-loaded.txt).  Same results,
 * protocol and record; a fiber parks as with gowait__park_wait.
 */
int gowait__park_wait_long(struct gowait_parker *p, int64_t deadline,
			   const struct gowait__site *site);

#endif
