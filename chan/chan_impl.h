/*
 * chan/chan_impl.h - the channel's insides, shared by chan/ and select/.
 *
 * Invariants (all fields below `lock` are guarded by it unless noted):
 *
 *  - At least one of sendq and recvq is empty, except while a select waits to
 *    both send and receive on the same unbuffered channel (Go's exception).
 *    Reason: a sender that finds a receiver queued hands its value over
 *    instead of queueing, and vice versa.
 *  - If recvq is non-empty the buffer is empty (qcount == 0): a receiver only
 *    queues when there is nothing to take.  If sendq is non-empty the buffer
 *    is full (qcount == cap).  A queued waiter may be stale (its parker was
 *    claimed through another channel or abandoned); whoever meets a stale
 *    waiter unlinks and skips it.
 *  - Once `closed` is set it never clears, both queues are empty and stay
 *    empty (close wakes every waiter; nobody queues on a closed channel), and
 *    qcount only decreases.
 *  - The buffer is a ring of cap slots of elem_size bytes; the qcount values
 *    start at recvx; sendx == (recvx + qcount) % cap.
 *  - nsendq/nrecvq count the waiters linked in each queue.  They are written
 *    under the lock and read without it (relaxed) by the non-blocking fast
 *    paths and by chan_unref's busy check.
 *
 * Lock order: channel locks are only ever nested by select, which takes them
 * in increasing address order, each once.  Nothing else is held while a
 * channel lock is taken, and no channel code blocks or calls out while
 * holding one.  Parkers are completed (and owners woken) after unlocking.
 */
#ifndef GOCHAN_CHAN_IMPL_H
#define GOCHAN_CHAN_IMPL_H

#include <gochan/chan.h>
#include <stdatomic.h>
#include <string.h>
#include <urcu/compiler.h>
#include <urcu/list.h>

#include "lock.h"
#include "parker.h"

#define CHAN_F_TIMER 1u /* timer channel: len/cap report 0 */

struct chan {
	struct chan_lock lock;
	_Atomic bool closed;     /* set under lock (release); read anywhere (acquire) */
	_Atomic size_t qcount;   /* written under lock; read relaxed by fast paths/len */
	_Atomic uint32_t nsendq; /* waiters in sendq (see invariants) */
	_Atomic uint32_t nrecvq; /* waiters in recvq */
	size_t sendx;            /* next slot to fill */
	size_t recvx;            /* next slot to take */
	struct cds_list_head sendq;
	struct cds_list_head recvq;
	/* Immutable after chan_new(): */
	size_t elem_size;
	size_t cap;
	uint32_t flags;
	_Atomic size_t refs;     /* not guarded by the lock: see chan_ref/chan_unref */
	unsigned char *buf;      /* cap * elem_size bytes, just after the struct */
};

/* Copy one element; a no-op for zero-size elements or a NULL destination
 * (a receive that discards the value). */
static inline void chan__copy(const struct chan *c, void *dst, const void *src)
{
	if (c->elem_size && dst)
		memcpy(dst, src, c->elem_size);
}

static inline void chan__zero(const struct chan *c, void *dst)
{
	if (c->elem_size && dst)
		memset(dst, 0, c->elem_size);
}

static inline unsigned char *chan__slot(const struct chan *c, size_t i)
{
	return c->buf + i * c->elem_size;
}

/* Queue a waiter at the tail (FIFO).  Caller holds c->lock. */
static inline void chan__enqueue(struct chan *c, struct chan_waiter *w, bool send)
{
	cds_list_add_tail(&w->link, send ? &c->sendq : &c->recvq);
	_Atomic uint32_t *n = send ? &c->nsendq : &c->nrecvq;
	atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* Unlink @w if it is still queued (idempotent).  Caller holds c->lock. */
static inline void chan__unlink(struct chan *c, struct chan_waiter *w, bool send)
{
	if (w->link.next == &w->link)
		return;
	cds_list_del_init(&w->link);
	_Atomic uint32_t *n = send ? &c->nsendq : &c->nrecvq;
	atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) - 1,
			      memory_order_relaxed);
}

/*
 * chan__dequeue - unlink waiters from the head of a queue until one can be
 * claimed; return it (claimed, unlinked) or NULL.  Stale waiters met on the
 * way are unlinked and forgotten.  Caller holds c->lock.
 */
static inline struct chan_waiter *chan__dequeue(struct chan *c, bool send)
{
	struct cds_list_head *q = send ? &c->sendq : &c->recvq;

	while (!cds_list_empty(q)) {
		struct chan_waiter *w = cds_list_first_entry(q, struct chan_waiter, link);

		chan__unlink(c, w, send);
		if (chan__claim(w))
			return w;
	}
	return NULL;
}

/*
 * The two halves of every operation, run with c->lock held, shared by the
 * plain operations and select's poll pass.  Each returns true if the
 * operation completed (then *ok says how: communicated, or channel closed),
 * false if it would block.  A claimed counterpart to complete after
 * unlocking is returned in *wake (NULL if none).
 */
bool chan__send_locked(struct chan *c, const void *elem, bool *ok, struct chan_parker **wake);
bool chan__recv_locked(struct chan *c, void *elem, bool *ok, struct chan_parker **wake);

/*
 * Deadlines: CHAN_FOREVER (-1) waits forever, CHAN_NOWAIT (0) is one
 * non-blocking attempt, any other negative value is a time long past (it
 * becomes 1 ns after boot), so it times out like any passed deadline.
 */
static inline int64_t chan__norm_deadline(int64_t d)
{
	return (d < 0 && d != CHAN_FOREVER) ? 1 : d;
}

/* Lock-free "would block" checks (Go's full()/empty()), relaxed reads. */
static inline bool chan__send_would_block(const struct chan *c)
{
	if (c->cap == 0)
		return atomic_load_explicit(&c->nrecvq, memory_order_relaxed) == 0;
	return atomic_load_explicit(&c->qcount, memory_order_relaxed) == c->cap;
}

static inline bool chan__recv_would_block(const struct chan *c)
{
	if (c->cap == 0)
		return atomic_load_explicit(&c->nsendq, memory_order_relaxed) == 0;
	return atomic_load_explicit(&c->qcount, memory_order_relaxed) == 0;
}

#endif
