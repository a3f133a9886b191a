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
 *  - Buffered channels other than timer channels keep their buffer in the
 *    lock-free ring of chan/array.h (c->ring != NULL; its header states how
 *    the rules above survive lock-free pushes and pops).  The others (timer
 *    channels, or all with -DGOCHAN_RING=0) use the locked buffer: a ring of
 *    cap slots of elem_size bytes; the qcount values start at recvx;
 *    sendx == (recvx + qcount) % cap.
 *  - nsendq/nrecvq count the waiters linked in each queue.  They are written
 *    under the lock and read without it by the non-blocking fast paths and
 *    by chan_unref's busy check.  qcount and these counts are stored with
 *    RELEASE (a plain store on x86): the acquire load of "empty" in the
 *    receive fast path that reads such a store then also sees every earlier
 *    write under the lock, in particular a close (see
 *    chan__recv_would_block).
 *
 * Lock order: wait/lockrank.h (the one table).  Channel locks are only
 * ever nested by select, in increasing address order, each once; no channel
 * code blocks, calls out or takes another lock while holding one, and
 * parkers are completed (owners woken) after unlocking.
 */
#ifndef GOCHAN_CHAN_IMPL_H
#define GOCHAN_CHAN_IMPL_H

#include <gochan/chan.h>
#include <gochan/select.h>
#include <stdatomic.h>
#include <string.h>
#include <urcu/compiler.h>
#include <urcu/list.h>

#include "chan/waitq.h"
#include "wait/clock.h"
#include "wait/debug.h"
#include "wait/lock.h"
#include "wait/lockrank.h"
#include "wait/park.h"

struct chan_ring;

#define CHAN_F_TIMER 1u /* timer channel: len/cap report 0 */
/*
 * Owned by the library (a Done channel, a timer's, a poll watch's): the
 * library alone sends on it, closes it and drops its own reference, which
 * is CHAN_OWNER_REF in refs (a user's chan_ref/chan_unref add and take 1).
 * The public entry points refuse a send, a close, or an unref that would
 * drop the owner's reference with EPERM (Go's receive-only `<-chan T`
 * makes these impossible at compile time); the library's own paths
 * (chan__try_send_owned, chan__close_owned, chan__unref_owner) skip the
 * check.  Immutable, like every flag.
 */
#define CHAN_F_OWNED 2u
/* The owner's reference: the top bit of refs, so that no number of user
 * references can reach it and "only the owner is left" is refs == it. */
#define CHAN_OWNER_REF ((size_t)1 << (sizeof(size_t) * 8 - 1))

/*
 * Two cache lines (the allocation is aligned to 64 by hand, chan_alloc):
 * line 0 is read-mostly (written at creation, and refs), so every CPU keeps
 * it shared; line 1 holds the lock and what it guards, the line that moves
 * between the threads of a rendezvous.  A ring channel's head and tail words
 * follow on lines of their own (struct chan_ring), then its slots.
 */
struct chan {
	/* ---- line 0: read-mostly ---- */
	size_t elem_size; /* immutable after chan_new(), as are the next five */
	size_t cap;
	unsigned char *buf;     /* ring: the slots; else the locked buffer (cap *
				    elem_size bytes) */
	size_t stride;          /* ring: bytes per slot (stamp + value) */
	uint64_t one_lap;       /* ring: the power of two above cap */
	struct chan_ring *ring; /* the ring's head/tail words, or NULL: locked
				    buffer or unbuffered */
	_Atomic size_t refs;    /* not guarded by the lock: see chan_ref/chan_unref */
	uint32_t flags;
	uint16_t pad; /* bytes before the struct in its allocation */

	/* ---- line 1: the lock and what it guards ---- */
	_Alignas(64) struct gowait_lock lock;
	_Atomic bool closed;     /* set under lock (release); read anywhere (acquire) */
	_Atomic uint32_t nenq;   /* waiters ever queued here (either queue), mod
				    2^32: written under lock (release), read by
				    select's lock-free "none ready" snapshot */
	_Atomic uint32_t nsendq; /* waiters in sendq (see invariants) */
	_Atomic uint32_t nrecvq; /* waiters in recvq */
	_Atomic size_t qcount;   /* locked buffer: written under lock (release);
				    read by fast paths and len */
	struct cds_list_head sendq;
	struct cds_list_head recvq;
	size_t sendx; /* locked buffer: next slot to fill */
	size_t recvx; /* locked buffer: next slot to take */
};

/* memcpy/memset of @n bytes, with the common element sizes as fixed-size
 * copies (a move or two instead of a libc call with a variable length: 5% of
 * a buffered hand-off of 8-byte values went to __memmove_avx_unaligned). */
static inline void chan__bytes_copy(void *dst, const void *src, size_t n)
{
	switch (n) {
	case 8: memcpy(dst, src, 8); break;
	case 4: memcpy(dst, src, 4); break;
	case 16: memcpy(dst, src, 16); break;
	default: memcpy(dst, src, n); break;
	}
}

static inline void chan__bytes_zero(void *dst, size_t n)
{
	switch (n) {
	case 8: memset(dst, 0, 8); break;
	case 4: memset(dst, 0, 4); break;
	case 16: memset(dst, 0, 16); break;
	default: memset(dst, 0, n); break;
	}
}

/* Copy one element; a no-op for zero-size elements or a NULL destination
 * (a receive that discards the value). */
static inline void chan__copy(const struct chan *c, void *dst, const void *src)
{
	if (c->elem_size && dst)
		chan__bytes_copy(dst, src, c->elem_size);
}

static inline void chan__zero(const struct chan *c, void *dst)
{
	if (c->elem_size && dst)
		chan__bytes_zero(dst, c->elem_size);
}

static inline unsigned char *chan__slot(const struct chan *c, size_t i)
{
	return c->buf + i * c->elem_size;
}

/* Queue a waiter at the tail (FIFO).  Caller holds c->lock. */
static inline void chan__enqueue(struct chan *c, struct chan_waiter *w, bool send)
{
	GOWAIT_ASSERT_HELD(&c->lock);
	/* Nobody queues on a closed channel (invariants); a waiter is in one
	 * queue at a time. */
	GOWAIT_ASSERT(!atomic_load_explicit(&c->closed, memory_order_relaxed));
	GOWAIT_ASSERT(w->link.next == &w->link);
	cds_list_add_tail(&w->link, send ? &c->sendq : &c->recvq);
	/* release, before the count below: a snapshot that reads nenq
	 * unchanged around a zero count saw no waiter come and go. */
	atomic_store_explicit(&c->nenq, atomic_load_explicit(&c->nenq, memory_order_relaxed) + 1,
			      memory_order_release);
	_Atomic uint32_t *n = send ? &c->nsendq : &c->nrecvq;
	/* release: pairs with chan__recv_would_block's acquire (invariants). */
	atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* Unlink @w if it is still queued (idempotent).  Caller holds c->lock. */
static inline void chan__unlink(struct chan *c, struct chan_waiter *w, bool send)
{
	GOWAIT_ASSERT_HELD(&c->lock);
	if (w->link.next == &w->link)
		return;
	cds_list_del_init(&w->link);
	_Atomic uint32_t *n = send ? &c->nsendq : &c->nrecvq;
	uint32_t was = atomic_load_explicit(n, memory_order_relaxed);

	GOWAIT_ASSERT(was > 0); /* the count covers every linked waiter */
	/* release: pairs with chan__recv_would_block's acquire (invariants). */
	atomic_store_explicit(n, was - 1, memory_order_release);
}

/*
 * chan__dequeue - unlink waiters from the head of a queue until one can be
 * claimed; return it (claimed, unlinked) or NULL.  Stale waiters met on the
 * way are unlinked and forgotten.  Caller holds c->lock.
 */
static inline struct chan_waiter *chan__dequeue(struct chan *c, bool send)
{
	struct cds_list_head *q = send ? &c->sendq : &c->recvq;

	GOWAIT_ASSERT_HELD(&c->lock);
	while (!cds_list_empty(q)) {
		struct chan_waiter *w = cds_list_first_entry(q, struct chan_waiter, link);

		chan__unlink(c, w, send);
		/* An exclusive waiter is in this one queue only and its owner
		 * never abandons it: unlinking it under the lock is the claim. */
		if (w->exclusive || chan__claim(w))
			return w;
	}
	return NULL;
}

/* A dequeued (claimed) waiter's operation was performed: record success for
 * its owner and hand it to the caller, which completes it after unlocking. */
static inline void chan__serve(struct chan_waiter *w, struct gowait_parker **wake)
{
	w->success = true;
	*wake = w->parker;
}

/*
 * The two halves of every operation, run with c->lock held, shared by the
 * plain operations and select's poll pass.  Each returns true if the
 * operation completed (then *ok says how: communicated, or channel closed),
 * false if it would block.  A claimed counterpart to complete after
 * unlocking is returned in *wake (NULL if none).
 */
bool chan__send_locked(struct chan *c, const void *elem, bool *ok, struct gowait_parker **wake);
bool chan__recv_locked(struct chan *c, void *elem, bool *ok, struct gowait_parker **wake);

/*
 * The send and receive behind chan_send* / chan_recv* (and a one-case
 * select): @would_block_err is what to return when the deadline has passed
 * (EAGAIN for the try forms, ETIMEDOUT for the others); @ra is the return
 * address of the public entry point and @sel the select it came from (NULL
 * for a plain operation), both only recorded for diagnostics if it parks.
 */
int chan__send_ext(chan_t *c, const void *elem, int64_t deadline, int would_block_err,
		   const void *ra, const struct gowait__sel *sel);
int chan__recv_ext(chan_t *c, void *elem, bool *ok, int64_t deadline, int would_block_err,
		   const void *ra, const struct gowait__sel *sel);

/*
 * Deadlines: CHAN_FOREVER (-1) waits forever, CHAN_NOWAIT (0) is one
 * non-blocking attempt, any other negative value is a time long past (it
 * becomes 1 ns after boot), so it times out like any passed deadline.
 */
static inline int64_t chan__norm_deadline(int64_t d)
{
	return (d < 0 && d != CHAN_FOREVER) ? 1 : d;
}

/* A select case's op. */
static inline bool chan__op_valid(enum chan_op op)
{
	return op == CHAN_OP_RECV || op == CHAN_OP_SEND;
}

/*
 * What is wrong with a valid case on a non-NULL channel, as a positive
 * errno (0: nothing): a send on a library-owned channel (EPERM, see
 * CHAN_F_OWNED), a send of no value on a channel with values (EINVAL), a
 * case from CHAN_RECV/CHAN_SEND whose sizeof *elem is not the channel's
 * element size (EINVAL; an untagged size_check, or a zero-size channel,
 * which copies nothing, is not checked).  select checks every case with it
 * before touching any channel (CHAN_SELECT's one-case CHAN_NOWAIT path
 * makes the same checks in chan_select_try_recv/_send).
 */
static inline int chan__case_misuse(const chan_case_t *cs)
{
	const struct chan *c = cs->chan;
	uint32_t sc = cs->size_check;

	if (chan__case_sends(cs)) {
		if (caa_unlikely(c->flags & CHAN_F_OWNED))
			return EPERM;
		if (caa_unlikely(!cs->elem && c->elem_size))
			return EINVAL;
	}
	/* The common cases in one predictable test: no size (0), or a tagged
	 * size equal to the channel's (sc ^ TAG == elem_size; for an element
	 * size above CHAN__SIZE_MAX that equality only holds for an untagged
	 * value, which is not checked anyway).  Anything else is decided
	 * exactly, out of the common path. */
	if (caa_likely(sc == 0 || (size_t)(sc ^ CHAN__SIZE_TAG) == c->elem_size))
		return 0;
	return (sc & ~CHAN__SIZE_MAX) == CHAN__SIZE_TAG && c->elem_size ? EINVAL : 0;
}

/* The ring's thaw (chan/array.h, the ring flavor), for the unlock below. */
void chan__ring_thaw(struct chan *c);

/* Unlock a channel; a ring channel's bits are recomputed first
 * (chan/array.h).  Every unlock of a channel lock goes through here. */
static inline void chan__unlock_chan(struct chan *c)
{
	if (c->ring)
		chan__ring_thaw(c);
	gowait__unlock(&c->lock);
}

#endif
