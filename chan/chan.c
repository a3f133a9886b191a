/*
 * chan/chan.c - send, receive and close: Go's runtime/chan.go in C.
 *
 * The rules, in the order they are checked (Go's order):
 *   send:    closed -> EPIPE; a receiver waiting -> hand it the value
 *            (the buffer is then empty); room in the buffer -> enqueue;
 *            no waiting allowed -> EAGAIN/ETIMEDOUT; else queue and park.
 *   receive: a sender waiting -> unbuffered: take its value; full buffer:
 *            take the head and move the sender's value to the tail (FIFO);
 *            buffered data -> take it (also after close: close drains);
 *            closed -> zero value, ok = false; no waiting allowed ->
 *            EAGAIN/ETIMEDOUT; else queue and park.
 *   close:   closed -> EALREADY; else mark closed and complete every queued
 *            waiter: receivers get the zero value and ok = false, senders
 *            EPIPE.  Their values never enter the channel.
 * See chan_impl.h for the invariants, chan/flavor.h for the three flavors
 * (each in its own file), wait/park.h for the claim protocol and
 * wait/lockrank.h for the lock order.
 */
#include <errno.h>
#include <stdlib.h>

#include "chan/chan_internal.h"
#include "chan/chaos.h"
#include "chan/flavor.h"

static inline size_t round_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

/* The power of two above @cap (a ring's one_lap: index + 1 never reaches it). */
static uint64_t lap_of(size_t cap)
{
	uint64_t lap = 1;

	while (lap <= cap)
		lap <<= 1;
	return lap;
}

static chan_t *chan_alloc(size_t elem_size, size_t cap, uint32_t flags)
{
	struct chan *c;
	unsigned char *raw;
	const size_t hdr = sizeof(struct chan);
	bool ring = GOCHAN_RING && cap > 0 && cap <= CHAN_RING_MAX_CAP && !(flags & CHAN_F_TIMER) &&
		    elem_size <= CHAN_MAX_ELEM_SIZE;
	size_t rstride = round_up(sizeof(struct chan_slot) + elem_size, 8);

	/* The ring's stamps cost 8 bytes a slot: take it only while that at
	 * most doubles the buffer or stays under 64 KiB, so that a huge
	 * chan struct{} (a semaphore) still costs nothing, as in Go. */
	if (ring)
		ring = (unsigned __int128)rstride * cap <=
		       2 * (unsigned __int128)elem_size * cap + 65536;
	size_t stride = ring ? rstride : elem_size;
	size_t extra = ring ? sizeof(struct chan_ring) : 0;

	if (elem_size > CHAN_MAX_ELEM_SIZE ||
	    (stride && cap > (SIZE_MAX - 64 - hdr - extra) / stride)) {
		errno = EINVAL;
		return NULL;
	}
	/* One allocation: [pad] header (two cache lines) [ring words: two
	 * lines] then the slots or the locked buffer.  Aligned to 64 by hand
	 * on a plain malloc: glibc's aligned_alloc(64) made chan_new 3x slower
	 * (bench `creation` 96 -> 35 ns). */
	raw = malloc(63 + hdr + extra + stride * cap);
	if (!raw) {
		errno = ENOMEM;
		return NULL;
	}
	c = (struct chan *)round_up((size_t)raw, 64);
	memset(c, 0, sizeof(*c));
	c->pad = (uint16_t)((unsigned char *)c - raw);
	atomic_init(&c->lock.word, 0);
	atomic_init(&c->closed, false);
	atomic_init(&c->qcount, 0);
	atomic_init(&c->nenq, 0);
	atomic_init(&c->nsendq, 0);
	atomic_init(&c->nrecvq, 0);
	CDS_INIT_LIST_HEAD(&c->sendq);
	CDS_INIT_LIST_HEAD(&c->recvq);
	c->elem_size = elem_size;
	c->cap = cap;
	c->flags = flags;
	atomic_init(&c->refs, flags & CHAN_F_OWNED ? CHAN_OWNER_REF : 1);
	c->stride = stride;
	c->buf = (unsigned char *)c + hdr + extra;
	if (ring) {
		c->ring = (struct chan_ring *)((unsigned char *)c + hdr);
		c->one_lap = lap_of(cap);
		if (elem_size)
			memset(c->buf, 0, stride * cap);
		chan__ring_init(c, 0);
	}
	return c;
}

chan_t *chan_new(size_t elem_size, size_t cap)
{
	return chan_alloc(elem_size, cap, 0);
}

chan_t *chan__new_timer(size_t elem_size)
{
	return chan_alloc(elem_size, 1, CHAN_F_TIMER | CHAN_F_OWNED);
}

chan_t *chan__new_owned(size_t elem_size, size_t cap)
{
	return chan_alloc(elem_size, cap, CHAN_F_OWNED);
}

chan_t *chan_ref(chan_t *c)
{
	/* relaxed: the caller holds a reference, so the count cannot reach
	 * zero concurrently; nothing is published by taking a reference. */
	if (c)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

/* Drop @n references (1, or the owner's CHAN_OWNER_REF). */
static int chan_drop(struct chan *c, size_t n)
{
	/* acq_rel: the release half orders every use of the channel by this
	 * thread before the free; the acquire half, taken by whoever drops the
	 * last reference, pairs with the other threads' releases.  (An acquire
	 * fence only on the last drop would be cheaper, but ThreadSanitizer
	 * does not model fences.) */
	if (atomic_fetch_sub_explicit(&c->refs, n, memory_order_acq_rel) != n)
		return 0;
	/* Last reference.  Threads still queued mean a caller broke the
	 * ownership rule (they hold no reference): refuse rather than free
	 * memory they are about to touch.  The lock orders this check after
	 * their enqueue or unlink. */
	gowait__lock(&c->lock);
	bool busy = atomic_load_explicit(&c->nsendq, memory_order_relaxed) ||
		    atomic_load_explicit(&c->nrecvq, memory_order_relaxed);
	chan__unlock_chan(c);
	if (busy) {
		atomic_store_explicit(&c->refs, n, memory_order_relaxed);
		return EBUSY;
	}
	free((unsigned char *)c - c->pad);
	return 0;
}

/*
 * A user's unref of an owned channel: take one user reference, never the
 * owner's.  refs == CHAN_OWNER_REF means that only the library's reference
 * is left, so this caller holds none (the chan_unref(ctx_done(c)) bug):
 * EPERM, nothing changes.  refs == 1 means the owner has let go and the
 * caller holds the last reference: the ordinary last drop.  The CAS keeps
 * the check and the decrement one step, so a concurrent owner drop
 * (fetch_sub of CHAN_OWNER_REF) is seen either before (then 1 remains for
 * the last user) or after.
 */
static int chan_unref_owned(struct chan *c)
{
	size_t r = atomic_load_explicit(&c->refs, memory_order_relaxed);

	for (;;) {
		if (r == CHAN_OWNER_REF)
			return EPERM;
		if (r == 1)
			return chan_drop(c, 1);
		/* acq_rel as in chan_drop (this is never the last drop). */
		if (atomic_compare_exchange_weak_explicit(&c->refs, &r, r - 1, memory_order_acq_rel,
							  memory_order_relaxed))
			return 0;
	}
}

int chan_unref(chan_t *c)
{
	if (!c)
		return EINVAL;
	if (caa_unlikely(c->flags & CHAN_F_OWNED))
		return chan_unref_owned(c);
	return chan_drop(c, 1);
}

int chan__unref_owner(chan_t *c)
{
	return chan_drop(c, CHAN_OWNER_REF);
}

/* Go's chansend under the lock, for every kind of channel: closed, then a
 * queued receiver (the buffer is then empty: hand over), then the buffer. */
bool chan__send_locked(struct chan *c, const void *elem, bool *ok, struct gowait_parker **wake)
{
	struct chan_waiter *w;

	*wake = NULL;
	if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
		*ok = false;
		return true;
	}
	if ((w = chan__dequeue(c, false))) {
		chan__copy(c, w->elem, elem);
		chan__serve(w, wake);
		*ok = true;
		return true;
	}
	if (c->cap && (c->ring ? chan__ring_push(c, elem, true) == CHAN_RING_OK
			       : chan__buf_push_locked(c, elem))) {
		*ok = true;
		return true;
	}
	return false;
}

/* Go's chanrecv under the lock: the buffer (with a queued sender's value
 * moved in behind), then a queued sender (unbuffered: take its value), then
 * closed (the zero value).  A buffered channel never has a live sender
 * queued while it is empty (chan_impl.h), so the second step only ever
 * serves unbuffered channels. */
bool chan__recv_locked(struct chan *c, void *elem, bool *ok, struct gowait_parker **wake)
{
	struct chan_waiter *w;

	*wake = NULL;
	if (c->cap && (c->ring ? chan__ring_pop_locked(c, elem, wake)
			       : chan__buf_pop_locked(c, elem, wake))) {
		*ok = true;
		return true;
	}
	if ((w = chan__dequeue(c, true))) {
		chan__copy(c, elem, w->elem);
		chan__serve(w, wake);
		*ok = true;
		return true;
	}
	if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
		chan__zero(c, elem);
		*ok = false;
		return true;
	}
	return false;
}

/* A copy into or out of chan_block_line.value (@n <= CHAN_INLINE_VALUE; 0
 * copies nothing): no 16-byte case, which gcc's -Warray-bounds would flag
 * on the line. */
static inline void inline_copy(void *dst, const void *src, size_t n)
{
	if (n == 8)
		memcpy(dst, src, 8);
	else
		memcpy(dst, src, n);
}

/*
 * Queue a waiter, unlock, park until completion or the deadline.  Returns 0
 * with *ok set on completion, ETIMEDOUT if the deadline won.  Called with
 * c->lock held; returns with it released.
 */
static int chan_block(struct chan *c, void *elem, bool send, bool *ok, int64_t deadline,
		      const void *ra, const struct gowait__sel *sel)
{
	struct chan_block_line b;
	struct gowait__site site = {send ? GOWAIT_OP_SEND : GOWAIT_OP_RECV, c, sel, ra};
	/* The value travels through b.value when it fits and there is one
	 * (a receive that discards it, elem == NULL, keeps NULL: nothing is
	 * copied at all). */
	bool inl = c->elem_size <= CHAN_INLINE_VALUE && elem;

	if (inl && send)
		inline_copy(b.value, elem, c->elem_size);
	gowait__parker_init(&b.p);
	chan__waiter_init(&b.w, &b.p, inl ? b.value : elem, 0);
	b.w.exclusive = deadline == CHAN_FOREVER;
	chan__enqueue(c, &b.w, send);
	chan__unlock_chan(c);

	if (gowait__park_wait(&b.p, deadline, &site) == ETIMEDOUT) {
		/* Abandoned: nobody will claim w any more; take it out. */
		gowait__lock(&c->lock);
		chan__unlink(c, &b.w, send);
		chan__unlock_chan(c);
		return ETIMEDOUT;
	}
	/* Completed: a receiver's value (or the zero value of a close) is in
	 * b.value; gowait__park_wait's acquire made it visible. */
	if (inl && !send)
		inline_copy(elem, b.value, c->elem_size);
	*ok = b.w.success;
	return 0;
}

static inline bool deadline_passed(int64_t deadline)
{
	return deadline == CHAN_NOWAIT || (deadline >= 0 && chan_now() >= deadline);
}

/*
 * The slow path shared by send and receive: under the lock, complete now if
 * possible, else give up (deadline passed) or queue and park.  Returns 0
 * with *ok set (true: communicated; false: closed), or @would_block_err, or
 * ETIMEDOUT.
 */
static int chan_op(struct chan *c, void *elem, bool send, bool *ok, int64_t deadline,
		   int would_block_err, const void *ra, const struct gowait__sel *sel)
{
	struct gowait_parker *wake;

	gowait__lock(&c->lock);
	for (bool frozen = false;; frozen = true) {
		if (send ? chan__send_locked(c, elem, ok, &wake)
			 : chan__recv_locked(c, elem, ok, &wake)) {
			chan__unlock_chan(c);
			if (wake)
				gowait__complete(wake);
			return 0;
		}
		if (deadline_passed(deadline)) {
			chan__unlock_chan(c);
			return would_block_err;
		}
		if (!c->ring || frozen)
			break;
		/* A ring channel: stop the lock-free operations that could make
		 * us ready (pushes for a receiver, pops for a sender), then look
		 * again; only what we see now may let us park (chan/array.h). */
		chan__ring_freeze(c, !send, send);
	}
	/* On close, the closer zeroed a receiver's *elem already. */
	return chan_block(c, elem, send, ok, deadline, ra, sel);
}

/*
 * send_ext / recv_ext are inlined into each public entry point, so that the
 * constant deadline of chan_try_send / chan_send folds away: a blocking
 * operation is send_body / recv_body inline, its lock-free fast path a few
 * instructions without a call, and only chan_op (the locked path) out of
 * line; a non-blocking one is a reject made of loads (send_rejects /
 * recv_rejects) inline and the rest out of line (send_nowait /
 * recv_nowait), so that the common "would block" answer needs no frame.
 * chan__send_ext and chan__recv_ext are the same code, out of line, for
 * select_one.
 */
#define CHAN_ALWAYS_INLINE static inline __attribute__((always_inline))

/* @user: a user's send (chan_send*), refused on an owned channel with
 * EPERM; the library's own sends and select (which checks its cases
 * itself) pass false.  The flag is a constant in each caller: a user's send
 * pays one predictable branch on line 0 (read-mostly, already loaded for
 * elem_size). */
CHAN_ALWAYS_INLINE int send_body(chan_t *c, const void *elem, int64_t deadline, int would_block_err,
				 const void *ra, const struct gowait__sel *sel)
{
	bool ok;

	if (c->ring) {
		/* Lock-free: room, open, nobody waiting (chan/array.h).  FULL is
		 * an observation of a full ring; the tail re-read after it finds
		 * the channel still open (and closing is final), so "open and
		 * full" held at the FULL observation: EAGAIN is linearizable. */
		enum chan_ring_rc rc = chan__ring_push(c, elem, false);

		if (rc == CHAN_RING_FULL && deadline != CHAN_NOWAIT)
			rc = chan__ring_retry(c, (void *)elem, true);
		if (rc == CHAN_RING_OK)
			return 0;
		if (rc == CHAN_RING_FULL && deadline == CHAN_NOWAIT && !chan__ring_tail_slow(c))
			return would_block_err;
	} else if (deadline == CHAN_NOWAIT &&
		   !atomic_load_explicit(&c->closed, memory_order_relaxed) &&
		   chan__send_would_block(c)) {
		/* Non-blocking fast path, without the lock (Go's chansend): if
		 * the channel is open and full we can fail right away.  The two
		 * relaxed reads may be stale, but there is a moment between them
		 * at which the channel was open and full, so reporting EAGAIN is
		 * linearizable. */
		return would_block_err;
	}

	int err = chan_op(c, (void *)elem, true, &ok, deadline, would_block_err, ra, sel);

	return err ? err : ok ? 0 : EPIPE;
}

/* The whole non-blocking send, out of line, with its chaos point: what
 * send_ext's reject could not decide, or did not try because the point is
 * armed (no call site is passed: a non-blocking operation never parks). */
static __attribute__((noinline)) int send_nowait(chan_t *c, const void *elem, int would_block_err)
{
	chan__chaos_point();
	return send_body(c, elem, CHAN_NOWAIT, would_block_err, NULL, NULL);
}

/*
 * Whether a non-blocking send would block, decided with loads only (Go's
 * chansend with block == false: `if !block && c.closed == 0 && full(c)`):
 * the ring's chan__ring_send_rejects; otherwise closed, then full (relaxed:
 * Go notes that the order of these two reads does not matter here; either
 * order gives a moment at which the channel was open and full).  False
 * proves nothing.
 */
static inline __attribute__((always_inline)) bool send_rejects(const struct chan *c)
{
	if (c->ring)
		return chan__ring_send_rejects(c);
	return !atomic_load_explicit(&c->closed, memory_order_relaxed) && chan__send_would_block(c);
}

/*
 * The entry checks, then a non-blocking send's lock-free reject inline and
 * the rest out of line, so that a rejected chan_try_send is a few loads with
 * no frame (select_nonblock: four of them per op); a send that may block is
 * send_body inline, with its lock-free push.
 */
CHAN_ALWAYS_INLINE int send_ext(chan_t *c, const void *elem, int64_t deadline, int would_block_err,
				const void *ra, const struct gowait__sel *sel, bool user)
{
	if (caa_unlikely(!c || (!elem && c->elem_size)))
		return EINVAL;
	if (user && caa_unlikely(c->flags & CHAN_F_OWNED))
		return EPERM;
	deadline = chan__norm_deadline(deadline);
	if (deadline == CHAN_NOWAIT) {
		/* The chaos point first, as in every operation: armed, the
		 * whole operation runs out of line after it. */
		if (!chan__chaos_hooked() && send_rejects(c))
			return would_block_err;
		return send_nowait(c, elem, would_block_err);
	}
	chan__chaos_point();
	return send_body(c, elem, deadline, would_block_err, ra, sel);
}

int chan__send_ext(chan_t *c, const void *elem, int64_t deadline, int would_block_err,
		   const void *ra, const struct gowait__sel *sel)
{
	return send_ext(c, elem, deadline, would_block_err, ra, sel, false);
}

int chan_send(chan_t *c, const void *elem)
{
	return send_ext(c, elem, CHAN_FOREVER, 0, __builtin_return_address(0), NULL, true);
}

int chan_try_send(chan_t *c, const void *elem)
{
	return send_ext(c, elem, CHAN_NOWAIT, EAGAIN, __builtin_return_address(0), NULL, true);
}

int chan__try_send_owned(chan_t *c, const void *elem)
{
	return send_ext(c, elem, CHAN_NOWAIT, EAGAIN, __builtin_return_address(0), NULL, false);
}

int chan_send_until(chan_t *c, const void *elem, int64_t deadline)
{
	return send_ext(c, elem, deadline, ETIMEDOUT, __builtin_return_address(0), NULL, true);
}

CHAN_ALWAYS_INLINE int recv_body(chan_t *c, void *elem, bool *okp, int64_t deadline,
				 int would_block_err, const void *ra, const struct gowait__sel *sel)
{
	bool ok;

	if (c->ring) {
		/* Lock-free: a value buffered and no sender waiting.  EMPTY is
		 * an observation of an empty ring through an acquire load of the
		 * tail word, so the acquire load of closed below is ordered
		 * after it: "empty, then open" means open and empty at the
		 * first (closing is final).  Closed and empty: the lock decides
		 * (drained for good, or a last value still in flight). */
		enum chan_ring_rc rc = chan__ring_pop(c, elem, false);

		/* Empty: retry briefly unless it is closed (drained for good, or
		 * the lock is about to say so: nothing to wait for). */
		if (rc == CHAN_RING_EMPTY && deadline != CHAN_NOWAIT &&
		    !atomic_load_explicit(&c->closed, memory_order_acquire))
			rc = chan__ring_retry(c, elem, false);
		if (rc == CHAN_RING_OK) {
			if (okp)
				*okp = true;
			return 0;
		}
		if (rc == CHAN_RING_EMPTY && deadline == CHAN_NOWAIT &&
		    !atomic_load_explicit(&c->closed, memory_order_acquire))
			return would_block_err;
	} else if (deadline == CHAN_NOWAIT && chan__recv_would_block(c, memory_order_acquire)) {
		/* Non-blocking fast path (Go's chanrecv).  Order matters: read
		 * emptiness first (acquire, so that the closed load cannot be
		 * performed before it: see chan__recv_would_block), then closed
		 * (acquire, pairs with the release store in chan_close()).  If we
		 * see "empty" and then "open", the channel was open and empty at
		 * the moment of the first read.  If it is closed, re-check
		 * emptiness: a channel closed and then found empty stays empty, so
		 * "closed and drained" is reported, never "open and empty" for a
		 * drained closed channel. */
		if (!atomic_load_explicit(&c->closed, memory_order_acquire))
			return would_block_err;
		if (chan__recv_would_block(c, memory_order_relaxed)) {
			chan__zero(c, elem);
			if (okp)
				*okp = false;
			return 0;
		}
	}

	int err = chan_op(c, elem, false, &ok, deadline, would_block_err, ra, sel);

	if (!err && okp)
		*okp = ok;
	return err;
}

/* The whole non-blocking receive, out of line (as send_nowait). */
static __attribute__((noinline)) int recv_nowait(chan_t *c, void *elem, bool *okp,
						 int would_block_err)
{
	chan__chaos_point();
	return recv_body(c, elem, okp, CHAN_NOWAIT, would_block_err, NULL, NULL);
}

/*
 * A non-blocking receive decided with loads only (Go's chanrecv with block
 * == false: empty, then closed, then empty again): EAGAIN for "would
 * block", 0 for "closed and drained" (the zero value stored, *okp false),
 * -1 when it proves neither (the whole operation decides).  The ring:
 * chan__ring_recv_rejects (a closed ring goes to the lock, which knows
 * whether a last value is still in flight).  The others: recv_body's
 * non-blocking fast path, the same loads in the same order with the
 * orderings argued there.
 */
static inline __attribute__((always_inline)) int recv_rejects(chan_t *c, void *elem, bool *okp)
{
	if (c->ring)
		return chan__ring_recv_rejects(c) ? EAGAIN : -1;
	if (!chan__recv_would_block(c, memory_order_acquire))
		return -1;
	if (!atomic_load_explicit(&c->closed, memory_order_acquire))
		return EAGAIN;
	if (!chan__recv_would_block(c, memory_order_relaxed))
		return -1;
	chan__zero(c, elem);
	if (okp)
		*okp = false;
	return 0;
}

/* The entry checks, then the reject inline and the rest out of line for a
 * non-blocking receive, as send_ext. */
CHAN_ALWAYS_INLINE int recv_ext(chan_t *c, void *elem, bool *okp, int64_t deadline,
				int would_block_err, const void *ra, const struct gowait__sel *sel)
{
	if (caa_unlikely(!c))
		return EINVAL;
	deadline = chan__norm_deadline(deadline);
	if (deadline == CHAN_NOWAIT) {
		int r = chan__chaos_hooked() ? -1 : recv_rejects(c, elem, okp);

		if (r >= 0)
			return r == EAGAIN ? would_block_err : 0;
		return recv_nowait(c, elem, okp, would_block_err);
	}
	chan__chaos_point();
	return recv_body(c, elem, okp, deadline, would_block_err, ra, sel);
}

int chan__recv_ext(chan_t *c, void *elem, bool *okp, int64_t deadline, int would_block_err,
		   const void *ra, const struct gowait__sel *sel)
{
	return recv_ext(c, elem, okp, deadline, would_block_err, ra, sel);
}

int chan_recv(chan_t *c, void *elem, bool *ok)
{
	return recv_ext(c, elem, ok, CHAN_FOREVER, 0, __builtin_return_address(0), NULL);
}

int chan_try_recv(chan_t *c, void *elem, bool *ok)
{
	return recv_ext(c, elem, ok, CHAN_NOWAIT, EAGAIN, __builtin_return_address(0), NULL);
}

int chan_recv_until(chan_t *c, void *elem, bool *ok, int64_t deadline)
{
	return recv_ext(c, elem, ok, deadline, ETIMEDOUT, __builtin_return_address(0), NULL);
}

static int close_impl(struct chan *c)
{
	struct chan_waiter *w, *wake = NULL;
	struct cds_list_head *next;

	gowait__lock(&c->lock);
	if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
		chan__unlock_chan(c);
		return EALREADY;
	}
	/* A ring channel: TAIL_SLOW first, so that every later push fails over
	 * to the lock and sees closed (it stays set: chan__ring_thaw). */
	if (c->ring)
		chan__ring_freeze(c, true, false);
	/* release: pairs with the acquire in the lock-free receive path, so a
	 * receive that returns "closed" without the lock happens after this. */
	atomic_store_explicit(&c->closed, true, memory_order_release);
	/* Claim every waiter; complete them after unlocking (a completed
	 * owner may run at once and want this lock for its select pass 4).
	 * A claimed waiter is ours until its completion, and dequeued: its
	 * link, self-linked by the unlink, chains our private wake list
	 * meanwhile (link.next = the next waiter's link, or NULL). */
	while ((w = chan__dequeue(c, false))) {
		chan__zero(c, w->elem);
		w->success = false;
		w->link.next = wake ? &wake->link : NULL;
		wake = w;
	}
	while ((w = chan__dequeue(c, true))) {
		w->success = false;
		w->link.next = wake ? &wake->link : NULL;
		wake = w;
	}
	chan__unlock_chan(c);
	while (wake) {
		w = wake;
		next = w->link.next; /* read before completing: w dies then */
		wake = next ? cds_list_entry(next, struct chan_waiter, link) : NULL;
		/* Self-linked again ("not queued") before its owner, which may
		 * unlink its waiters once complete (select), can look. */
		CDS_INIT_LIST_HEAD(&w->link);
		gowait__complete(w->parker);
	}
	return 0;
}

/*
 * CHAN_SELECT(CHAN_NOWAIT, one case): the plain non-blocking operation
 * after select's size check, one predictable test on line 0 (elem_size,
 * which the operation loads anyway) in the common case.  The send keeps
 * its user check (EPERM).
 */
static inline bool size_mismatch(const struct chan *c, size_t size)
{
	return caa_unlikely(size != c->elem_size) && size != 0 && c->elem_size != 0;
}

int chan_select_try_recv(chan_t *c, void *elem, bool *ok, size_t size)
{
	if (caa_unlikely(!c) || size_mismatch(c, size))
		return EINVAL;
	return recv_ext(c, elem, ok, CHAN_NOWAIT, EAGAIN, __builtin_return_address(0), NULL);
}

int chan_select_try_send(chan_t *c, const void *elem, size_t size)
{
	if (caa_unlikely(!c) || size_mismatch(c, size))
		return EINVAL;
	return send_ext(c, elem, CHAN_NOWAIT, EAGAIN, __builtin_return_address(0), NULL, true);
}

int chan_close(chan_t *c)
{
	if (!c)
		return EINVAL;
	if (caa_unlikely(c->flags & CHAN_F_OWNED))
		return EPERM; /* the library closes its own channels */
	chan__chaos_point();
	return close_impl(c);
}

int chan__close_owned(chan_t *c)
{
	/* No switch point (chan/chaos.h): the library closes its channels
	 * under its own locks (a context's mu in ctx_mark), and a bubble
	 * fiber switched out there would leave the bubble's one worker to
	 * block on that mutex for ever. */
	return close_impl(c);
}

size_t chan__clear(chan_t *c)
{
	size_t n;

	gowait__lock(&c->lock);
	if (c->ring) { /* (timer channels have none; for completeness) */
		chan__ring_freeze(c, true, true);
		for (n = 0; chan__ring_pop(c, NULL, true) == CHAN_RING_OK; n++)
			;
		chan__unlock_chan(c);
		return n;
	}
	n = atomic_load_explicit(&c->qcount, memory_order_relaxed);
	if (n && c->elem_size)
		memset(c->buf, 0, c->cap * c->elem_size);
	c->sendx = c->recvx = 0;
	atomic_store_explicit(&c->qcount, 0, memory_order_release); /* as in send/recv */
	chan__unlock_chan(c);
	return n;
}

size_t chan__refs(const chan_t *c)
{
	size_t r = atomic_load_explicit(&c->refs, memory_order_relaxed);

	return r & CHAN_OWNER_REF ? r - CHAN_OWNER_REF + 1 : r;
}

size_t chan_len(const chan_t *c)
{
	if (!c || (c->flags & CHAN_F_TIMER))
		return 0;
	if (c->ring)
		return chan__ring_len(c);
	return atomic_load_explicit(&c->qcount, memory_order_relaxed);
}

size_t chan_cap(const chan_t *c)
{
	if (!c || (c->flags & CHAN_F_TIMER))
		return 0;
	return c->cap;
}

size_t chan_elem_size(const chan_t *c)
{
	return c ? c->elem_size : 0;
}

bool chan_is_closed(const chan_t *c)
{
	return c && atomic_load_explicit(&c->closed, memory_order_relaxed);
}
