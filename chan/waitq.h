/*
 * chan/waitq.h - a channel's waiter: one queued case of a blocked operation
 * (Go's sudog, crossbeam's Entry).  The parker it points to, the claim
 * protocol and the park itself are the wait layer's (wait/park.h); the
 * queues the waiter is linked into, and their invariants, are struct
 * chan's (chan/chan_impl.h).  Not installed; not for users.
 */
#ifndef GOCHAN_CHAN_WAITQ_H
#define GOCHAN_CHAN_WAITQ_H

#include <stdbool.h>
#include <stdint.h>
#include <urcu/list.h>

#include "wait/park.h"

struct chan_waiter {
	struct cds_list_head link;    /* in a channel's sendq/recvq, under its lock;
					  self-linked when not queued (between
					  close's dequeue and its completion it
					  chains close's private wake list:
					  chan.c, close_impl) */
	struct gowait_parker *parker; /* the owner's parker */
	void *elem;                   /* send: the value; recv: destination or NULL */
	uint32_t case_index;          /* which case of the owner this is */
	bool success;                 /* outcome, written by the claimer before
					  completion: true = communicated, false = closed */
	bool exclusive;               /* the owner's only waiter and it cannot be
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
	_Alignas(64) struct gowait_parker p;
	struct chan_waiter w;
	unsigned char value[CHAN_INLINE_VALUE];
};
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct chan_block_line) == 64, "a plain waiter's state fills one line");
#endif

static inline void chan__waiter_init(struct chan_waiter *w, struct gowait_parker *p, void *elem,
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
 * the lock of the channel @w is queued on): the wait layer's claim CAS, with
 * the case index + 1 as the token the owner reads back (select's fired
 * case).
 */
static inline bool chan__claim(struct chan_waiter *w)
{
	return gowait__claim(w->parker, w->case_index + 1);
}

#endif
