/*
 * chan/array.c - the ring's lock-holder side: set-up, the bits, the locked
 * halves of send and receive, len.  The lock-free push and pop, and the
 * argument for why the whole is still a Go channel, are in chan/array.h.
 */
#include <errno.h>

#include "chan/array.h"

void chan__ring_init(struct chan *c, uint64_t start_lap)
{
	for (size_t i = 0; i < c->cap; i++)
		atomic_init(&chan__ring_slot(c, start_lap + i)->stamp, start_lap + i);
	atomic_init(&c->ring->head, start_lap << 1);
	atomic_init(&c->ring->tail, start_lap << 1);
}

int chan__ring_test_start(chan_t *c, uint64_t before_wrap)
{
	if (!c || !c->ring)
		return EINVAL;
	gowait__lock(&c->lock);
	bool idle = chan__ring_len(c) == 0 &&
		    !atomic_load_explicit(&c->nsendq, memory_order_relaxed) &&
		    !atomic_load_explicit(&c->nrecvq, memory_order_relaxed) &&
		    !atomic_load_explicit(&c->closed, memory_order_relaxed);
	if (idle) {
		/* The lap at or below 2^63 - before_wrap. */
		uint64_t lap = ((CHAN_RING_POS_MASK + 1) - before_wrap) & ~(c->one_lap - 1) &
			       CHAN_RING_POS_MASK;
		chan__ring_init(c, lap);
	}
	chan__unlock_chan(c);
	return idle ? 0 : EINVAL;
}

size_t chan__ring_len(const struct chan *c)
{
	struct chan_ring *r = c->ring;

	/* crossbeam's len(): a tail read twice around the head read gives a
	 * consistent pair; relaxed (a hint, as Go's len). */
	for (;;) {
		uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed) >> 1;
		uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed) >> 1;

		if ((atomic_load_explicit(&r->tail, memory_order_relaxed) >> 1) != tail)
			continue;
		uint64_t hix = head & (c->one_lap - 1), tix = tail & (c->one_lap - 1);

		if (hix < tix)
			return (size_t)(tix - hix);
		if (hix > tix)
			return (size_t)(c->cap - hix + tix);
		return tail == head ? 0 : c->cap;
	}
}

/* Set or clear the bit of @w to @on, touching the word only if it differs
 * (relaxed read: only lock holders change the bit, and we hold the lock, so
 * it is the last value any holder left).  The RMWs are seq_cst: setting is
 * ordered before the locked poll that follows (which must see every push or
 * pop that got its CAS in before the bit); clearing is ordered after the
 * locked state we leave (e.g. a value moved in from a queued sender). */
static void set_bit(_Atomic uint64_t *w, bool on)
{
	bool is = atomic_load_explicit(w, memory_order_relaxed) & CHAN_RING_BIT;

	if (is == on)
		return;
	if (on)
		atomic_fetch_or_explicit(w, CHAN_RING_BIT, memory_order_seq_cst);
	else
		atomic_fetch_and_explicit(w, ~CHAN_RING_BIT, memory_order_seq_cst);
}

void chan__ring_freeze(struct chan *c, bool tail, bool head)
{
	GOWAIT_ASSERT_HELD(&c->lock);
	if (tail)
		set_bit(&c->ring->tail, true);
	if (head)
		set_bit(&c->ring->head, true);
}

void chan__ring_thaw(struct chan *c)
{
	GOWAIT_ASSERT_HELD(&c->lock);
	bool senders = atomic_load_explicit(&c->nsendq, memory_order_relaxed) != 0;
	bool receivers = atomic_load_explicit(&c->nrecvq, memory_order_relaxed) != 0;
	bool closed = atomic_load_explicit(&c->closed, memory_order_relaxed);

	set_bit(&c->ring->tail, closed || senders || receivers);
	set_bit(&c->ring->head, senders);
}

bool chan__ring_pop_locked(struct chan *c, void *elem, struct gowait_parker **wake)
{
	struct chan_waiter *w;

	if (chan__ring_pop(c, elem, true) != CHAN_RING_OK)
		return false;
	if ((w = chan__dequeue(c, true))) {
		/* The ring was full and a sender waits: its value takes the
		 * slot just freed, the new tail.  TAIL_SLOW stays set until our
		 * unlock (thaw runs there), so no lock-free push can take the
		 * slot first. */
		enum chan_ring_rc rc = chan__ring_push(c, w->elem, true);

		/* Always OK: we just freed a slot, and only lock holders can
		 * push while TAIL_SLOW is set. */
		GOWAIT_ASSERT(rc == CHAN_RING_OK);
		(void)rc;
		chan__serve(w, wake);
	}
	return true;
}
