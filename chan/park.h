/*
 * chan/park.h - how a blocked thread waits and how it is claimed and woken:
 * the wait layer's park half (chan/lock.h is its lock, chan/clock.h its
 * clock, chan/futex.h its sleep; chan/lockrank.h the lock order).
 *
 * Every blocking call (a plain send/receive or a whole select) puts one
 * struct chan_parker on its own stack, and one struct chan_waiter per channel
 * case it waits on, linked into that channel's send or receive queue.  This
 * is Go's g/sudog pair and crossbeam's Context/Entry pair.
 *
 * The claim protocol (one CAS decides everything):
 *
 *   parker.state: CHAN_PARK_WAITING --CAS by a counterpart--> case index + 1
 *                                   --CAS by the owner------> CHAN_PARK_ABANDONED
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
 * Two kinds of waiter (the agent interface, issue 18): parker.agent is NULL
 * for a thread and the fiber for a fiber (fiber/, gochan/fiber.h).  A fiber's
 * park is the fiber runtime's ops->park, which keeps the claim/abandon
 * protocol above but commits (futex 0 -> 2) on its worker's scheduler stack
 * after switching away; a completer that reads 2 then calls ops->ready(agent)
 * instead of FUTEX_WAKE.  It reads agent BEFORE its exchange (after it the
 * parker may be gone); the runtime keeps a parked fiber alive until ready().
 */
#ifndef GOCHAN_CHAN_PARK_H
#define GOCHAN_CHAN_PARK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <urcu/list.h>

#include "diag/registry.h"

#define CHAN_PARK_WAITING 0u
#define CHAN_PARK_ABANDONED UINT32_MAX

struct chan_parker {
	_Atomic uint32_t state; /* WAITING, ABANDONED, or fired case index + 1 */
	_Atomic uint32_t futex; /* 0 running, 2 sleeping, 1 complete */
	void *agent;            /* the waiting fiber; NULL: a thread */
};

/* What the fiber runtime lends the wait layer (set once, never unset). */
struct gowait_fiber_ops {
	void *(*self)(void); /* the running fiber, NULL on a thread/scheduler */
	int (*park)(struct chan_parker *p, int64_t deadline); /* = chan__park_wait */
	void (*ready)(void *agent); /* make a committed parked fiber runnable */
};
/* Release store, paired with the acquire loads in gowait__self/park/complete. */
void gowait__set_fiber_ops(const struct gowait_fiber_ops *ops);
extern _Atomic(const struct gowait_fiber_ops *) gowait__fiber_ops;

/* The current fiber, NULL on a plain thread: one predictable branch when no
 * fiber runtime was ever started. */
static inline void *gowait__self(void)
{
	const struct gowait_fiber_ops *o =
		atomic_load_explicit(&gowait__fiber_ops, memory_order_acquire);

	return o ? o->self() : NULL;
}

struct chan_waiter {
	struct cds_list_head link;     /* in a channel's sendq/recvq, under its lock;
					   self-linked when not queued */
	struct chan_parker *parker;    /* the owner's parker */
	void *elem;                    /* send: the value; recv: destination or NULL */
	uint32_t case_index;           /* which case of the owner this is */
	bool success;                  /* outcome, written by the claimer before
					   completion: true = communicated, false = closed */
	bool exclusive;                /* the owner's only waiter and it cannot be
					   abandoned (a plain operation without
					   deadline): whoever dequeues it owns it,
					   no claim CAS (Go's rule for non-select
					   waiters) */
};

/*
 * A plain blocked operation's whole wait state on one cache line: the
 * parker, the waiter and, for elements of up to 8 bytes, the value itself.
 * The counterpart then touches only this line of the owner's (besides the
 * channel): a sender's value is read from it, a receiver's value written into
 * it, and the owner copies it out after completion.  (Not in a select: its
 * waiters are an array beside its cases.)
 */
#define CHAN_INLINE_VALUE 8
struct chan_block_line {
	_Alignas(64) struct chan_parker p;
	struct chan_waiter w;
	unsigned char value[CHAN_INLINE_VALUE];
};
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct chan_block_line) == 64, "a plain waiter's state fills one line");
#endif

static inline void chan__parker_init(struct chan_parker *p)
{
	atomic_init(&p->state, CHAN_PARK_WAITING);
	atomic_init(&p->futex, 0);
	p->agent = gowait__self();
}

static inline void chan__waiter_init(struct chan_waiter *w, struct chan_parker *p, void *elem,
				     uint32_t case_index)
{
	CDS_INIT_LIST_HEAD(&w->link);
	w->parker = p;
	w->elem = elem;
	w->case_index = case_index;
	w->success = false;
	w->exclusive = false;
}

/*
 * chan__claim - try to become the one counterpart of @w's owner (caller holds
 * the lock of the channel @w is queued on).  acq_rel: acquire so that we see
 * the owner's waiter fields, release so that the owner, if it later fails its
 * abandon CAS, sees that the claim came first.
 */
static inline bool chan__claim(struct chan_waiter *w)
{
	uint32_t expected = CHAN_PARK_WAITING;

	return atomic_compare_exchange_strong_explicit(&w->parker->state, &expected,
						       w->case_index + 1, memory_order_acq_rel,
						       memory_order_relaxed);
}

/* chan__complete - publish completion of a claimed parker and wake its owner. */
void chan__complete(struct chan_parker *p);

/*
 * chan__park_wait - THE way a blocked operation waits (plain send/receive
 * and select alike).  Parks until a counterpart claims and completes @p, or
 * until @deadline (CHAN_FOREVER: none) passes.  On the deadline it tries to
 * abandon @p (the CAS to CHAN_PARK_ABANDONED); if a counterpart claimed it
 * first, that counterpart is running and about to complete, so it waits for
 * the completion without a deadline.  No lock may be held (chan/lockrank.h).
 *
 * Returns 0 when claimed and completed: the claimer's writes (the value,
 * waiter.success, parker.state) are visible (acquire).  Returns ETIMEDOUT
 * when abandoned: nobody will ever complete @p, and the caller must unlink
 * its still-queued waiters, under their channels' locks, before they go out
 * of scope.
 *
 * While it waits, the thread is listed in the diagnostics registry as
 * blocked in @site's operation (diag/registry.h; godiag_dump).  When it
 * returns, no dumper reads @site's channels or cases any more.
 */
int chan__park_wait(struct chan_parker *p, int64_t deadline, const struct godiag__site *site);

#endif
