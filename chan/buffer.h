/*
 * chan/buffer.h - the locked buffer, the flavor of timer channels (and of
 * every buffered channel built with -DGOCHAN_RING=0): cap slots of
 * elem_size bytes at c->buf, used as a ring under the channel lock.
 *
 * Invariants (caller holds c->lock for everything but the would-block
 * checks): qcount <= cap; the qcount values start at recvx; sendx ==
 * (recvx + qcount) % cap; a sender is queued only while qcount == cap, a
 * receiver only while qcount == 0 (chan/chan_impl.h).  qcount is stored
 * with release so that the lock-free checks below see it with everything
 * written under the lock before it (see chan/flavor.h).  Checked with
 * -DGOCHAN_DEBUG.
 *
 * select's view of this flavor (chan/flavor.h): no version word, so a
 * non-blocking select's lock-free "none ready" proof gives up and the lock
 * decides.  Not installed; not for users.
 */
#ifndef GOCHAN_CHAN_BUFFER_H
#define GOCHAN_CHAN_BUFFER_H

#include "chan/chan_impl.h"

static inline void chan__buf_check(const struct chan *c)
{
	GOWAIT_ASSERT_HELD(&c->lock);
	GOWAIT_ASSERT(atomic_load_explicit(&c->qcount, memory_order_relaxed) <= c->cap);
	GOWAIT_ASSERT(c->sendx ==
		      (c->recvx + atomic_load_explicit(&c->qcount, memory_order_relaxed)) % c->cap);
	(void)c;
}

/* Append @elem if there is room (caller holds c->lock). */
static inline bool chan__buf_push_locked(struct chan *c, const void *elem)
{
	size_t n = atomic_load_explicit(&c->qcount, memory_order_relaxed);

	chan__buf_check(c);
	if (n == c->cap)
		return false;
	chan__copy(c, chan__slot(c, c->sendx), elem);
	if (++c->sendx == c->cap)
		c->sendx = 0;
	/* release: pairs with the receive fast path (chan/flavor.h) */
	atomic_store_explicit(&c->qcount, n + 1, memory_order_release);
	return true;
}

/* Take the head into @elem if there is one (caller holds c->lock); a sender
 * queued on the full buffer then has its value moved into the slot just
 * freed, the new tail (Go's FIFO), and is returned in *wake. */
static inline bool chan__buf_pop_locked(struct chan *c, void *elem, struct gowait_parker **wake)
{
	size_t n = atomic_load_explicit(&c->qcount, memory_order_relaxed);
	struct chan_waiter *w;

	chan__buf_check(c);
	if (n == 0)
		return false;
	chan__copy(c, elem, chan__slot(c, c->recvx));
	if ((w = chan__dequeue(c, true))) {
		GOWAIT_ASSERT(n == c->cap); /* senders queue on a full buffer only */
		chan__copy(c, chan__slot(c, c->recvx), w->elem);
		chan__serve(w, wake);
		if (++c->recvx == c->cap)
			c->recvx = 0;
		c->sendx = c->recvx;
	} else {
		chan__zero(c, chan__slot(c, c->recvx)); /* as Go: no stale copies */
		if (++c->recvx == c->cap)
			c->recvx = 0;
		/* release: pairs with the receive fast path (chan/flavor.h) */
		atomic_store_explicit(&c->qcount, n - 1, memory_order_release);
	}
	return true;
}

/* Lock-free "would block" (orderings: chan/flavor.h). */
static inline bool chan__buf_send_would_block(const struct chan *c)
{
	return atomic_load_explicit(&c->qcount, memory_order_relaxed) == c->cap;
}

static inline bool chan__buf_recv_would_block(const struct chan *c, memory_order mo)
{
	return atomic_load_explicit(&c->qcount, mo) == 0;
}

#endif
