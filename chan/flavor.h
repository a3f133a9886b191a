/*
 * chan/flavor.h - the three channel flavors behind one internal interface.
 *
 *   unbuffered     cap 0                      chan/unbuffered.h
 *   ring           buffered (not timer)       chan/array.h, chan/array.c
 *   locked buffer  timer channels (or all     chan/buffer.h
 *                  buffered with -DGOCHAN_RING=0)
 *
 * The operations under the lock (chan__send_locked / chan__recv_locked,
 * chan.c) and the wait queues (chan/chan_impl.h) are shared; what differs is
 * where a value sits and how a channel is looked at without the lock.  This
 * header is that look, and it is the one interface select reaches a channel
 * through (crossbeam's SelectHandle: try, register, unregister):
 *
 *   chan__handle_try          the lock-free first look at a case
 *   chan__handle_lock/unlock  the channel lock (every unlock recomputes a
 *                             ring's bits)
 *   chan__handle_try_locked   the case's operation under the lock
 *   chan__handle_freezes      whether the flavor needs freezing before a
 *   chan__handle_freeze       "none ready" (the ring: no lock-free push or
 *                             pop may make the case ready meanwhile)
 *   chan__handle_register     queue the case's waiter / take it out
 *   chan__handle_unregister
 *   chan__handle_version      a version word for the lock-free "none ready"
 *                             proof of a non-blocking select
 *
 * select/select.c uses these and never a flavor's fields (the ring's words,
 * one_lap, nenq, qcount): a change to a flavor is a change to its file and,
 * if select must see it, to this interface.  All static inline: select's
 * fast path compiles to the same code as when it read the fields itself.
 * Not installed; not for users.
 */
#ifndef GOCHAN_CHAN_FLAVOR_H
#define GOCHAN_CHAN_FLAVOR_H

#include "chan/array.h"
#include "chan/buffer.h"
#include "chan/chan_impl.h"
#include "chan/unbuffered.h"

/*
 * Lock-free "would block" checks (Go's full()/empty()), for the unbuffered
 * channel and the locked buffer (the ring has its own: chan/array.h).
 *
 * Send: relaxed.  chan_send's fast path reads closed and then full(); Go
 * notes that the order of those two reads does not matter there (either
 * order gives a moment at which the channel was open and full).
 *
 * Receive: ACQUIRE.  chan_recv's fast path must read "empty" BEFORE it reads
 * "closed" (Go's chanrecv: "reversing the operations can lead to incorrect
 * behavior when racing with a close").  With a relaxed load here followed
 * by the acquire load of closed, a weakly ordered CPU (arm64) may perform
 * the emptiness load after the closed load: it could then see "open" from
 * before a close and "empty" from after the channel was drained, and report
 * "open and empty" for a channel that was never both at once.  An acquire
 * load keeps every later load (closed) after it, and it pairs with the
 * release stores of qcount / nsendq (chan/chan_impl.h's invariants): a count that a
 * holder of the lock wrote after a close (the drain, or close dequeuing the
 * senders) comes with the close itself, so "empty" read from after the close
 * is followed by "closed" read as true.  On x86 both are plain accesses, on
 * arm64 LDAR/STLR.  The re-check after the closed load may be relaxed: the
 * closed load's acquire (pairing with chan_close()'s release) keeps it
 * after.
 */
static inline bool chan__send_would_block(const struct chan *c)
{
	return c->cap == 0 ? chan__unbuf_send_would_block(c) : chan__buf_send_would_block(c);
}

static inline bool chan__recv_would_block(const struct chan *c, memory_order mo)
{
	return c->cap == 0 ? chan__unbuf_recv_would_block(c, mo)
			   : chan__buf_recv_would_block(c, mo);
}

/* ---- select's handle ---- */

#define CHAN_HANDLE static inline __attribute__((always_inline))

/*
 * chan__handle_try - look at one case without the lock, decided on its own
 * at one instant: CHAN_TRY_FIRED (performed, *ok set), CHAN_TRY_NOT_READY
 * (it could not proceed at that instant) or CHAN_TRY_LOCK (it may be ready:
 * decide under the lock).  A ring case is a lock-free push or pop
 * (chan__ring_try); any other channel (unbuffered, timer) answers with the
 * lock-free checks of the non-blocking plain operations, in the order and
 * with the orderings argued above.
 */
CHAN_HANDLE enum chan_try chan__handle_try(struct chan *c, bool send, void *elem, bool *ok)
{
	if (c->ring)
		return chan__ring_try(c, send, elem, ok);
	if (send ? !atomic_load_explicit(&c->closed, memory_order_relaxed) &&
			    chan__send_would_block(c)
		 : chan__recv_would_block(c, memory_order_acquire) &&
			    !atomic_load_explicit(&c->closed, memory_order_acquire))
		return CHAN_TRY_NOT_READY; /* open and nothing to match */
	return CHAN_TRY_LOCK;
}

CHAN_HANDLE void chan__handle_lock(struct chan *c)
{
	gowait__lock(&c->lock);
}

CHAN_HANDLE void chan__handle_unlock(struct chan *c)
{
	chan__unlock_chan(c);
}

/* The case's operation under the lock (caller holds c->lock): true if it
 * completed (*ok: communicated or closed), with a counterpart to complete
 * after unlocking in *wake. */
CHAN_HANDLE bool chan__handle_try_locked(struct chan *c, bool send, void *elem, bool *ok,
					 struct gowait_parker **wake)
{
	return send ? chan__send_locked(c, elem, ok, wake) : chan__recv_locked(c, elem, ok, wake);
}

/* Whether a case on @c must be frozen before its "none ready" counts. */
CHAN_HANDLE bool chan__handle_freezes(const struct chan *c)
{
	return c->ring != NULL;
}

/* Freeze a case (caller holds c->lock): no lock-free push (receive case) or
 * pop (send case) may make it ready until the unlock (chan/array.h). */
CHAN_HANDLE void chan__handle_freeze(struct chan *c, bool send)
{
	if (c->ring)
		chan__ring_freeze(c, !send, send);
}

/* Queue / unqueue a case's waiter (caller holds c->lock; unregister is
 * idempotent). */
CHAN_HANDLE void chan__handle_register(struct chan *c, struct chan_waiter *w, bool send)
{
	chan__enqueue(c, w, send);
}

CHAN_HANDLE void chan__handle_unregister(struct chan *c, struct chan_waiter *w, bool send)
{
	chan__unlink(c, w, send);
}

/*
 * chan__handle_version - for a non-blocking select's double collect: a
 * version word of the case that changes whenever it could have become ready,
 * and whether it is not ready now (open, nothing to match).  Every load is
 * an acquire, so they are performed in program order; `closed` is read last
 * and only ever goes from false to true.  The ring: chan__ring_version; the
 * unbuffered channel: chan__unbuf_version (nenq is 32-bit, so it cannot wrap
 * back between two collects either).  The locked buffer has no version:
 * false, and the lock decides.
 */
CHAN_HANDLE bool chan__handle_version(const struct chan *c, bool send, uint64_t *v, bool *not_ready)
{
	if (c->ring)
		chan__ring_version(c, send, v, not_ready);
	else if (c->cap == 0)
		chan__unbuf_version(c, send, v, not_ready);
	else
		return false;
	*not_ready = *not_ready && !atomic_load_explicit(&c->closed, memory_order_acquire);
	return true;
}

#endif
