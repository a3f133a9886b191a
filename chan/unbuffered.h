/*
 * chan/unbuffered.h - the unbuffered channel (cap 0): no buffer at all; a
 * send completes only by handing its value to a queued receiver and vice
 * versa, under the channel lock (chan.c's chan__send_locked /
 * chan__recv_locked, which every flavor shares: the queues are struct
 * chan's).  What is this flavor's own is its lock-free view, used by the
 * non-blocking fast paths and by select (chan/flavor.h):
 *
 *  - would block: no counterpart queued (nrecvq / nsendq zero);
 *  - version: nenq, bumped (release) before the queue count on every
 *    enqueue (chan__enqueue), so a snapshot that reads nenq unchanged
 *    around a zero count saw no waiter come and go.
 *
 * Not installed; not for users.
 */
#ifndef GOCHAN_CHAN_UNBUFFERED_H
#define GOCHAN_CHAN_UNBUFFERED_H

#include "chan/chan_impl.h"

static inline bool chan__unbuf_send_would_block(const struct chan *c)
{
	return atomic_load_explicit(&c->nrecvq, memory_order_relaxed) == 0;
}

static inline bool chan__unbuf_recv_would_block(const struct chan *c, memory_order mo)
{
	return atomic_load_explicit(&c->nsendq, mo) == 0;
}

/* select's version of a case (acquire loads, in program order): nenq, and
 * whether no counterpart is queued. */
static inline void chan__unbuf_version(const struct chan *c, bool send, uint64_t *v,
				       bool *not_ready)
{
	*v = atomic_load_explicit(&c->nenq, memory_order_acquire);
	*not_ready =
		atomic_load_explicit(send ? &c->nrecvq : &c->nsendq, memory_order_acquire) == 0;
}

#endif
