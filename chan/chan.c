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
 * See chan_impl.h for the invariants, chan/park.h for the claim protocol
 * and chan/lockrank.h for the lock order.
 */
#include <errno.h>
#include <stdlib.h>

#include "chan_impl.h"
#include "chan_internal.h"
#include "chaos.h"

static chan_t *chan_alloc(size_t elem_size, size_t cap, uint32_t flags)
{
	struct chan *c;
	size_t bufsize, hdr = (sizeof(struct chan) + 15) & ~(size_t)15;

	if (elem_size > CHAN_MAX_ELEM_SIZE || (elem_size && cap > (SIZE_MAX - hdr) / elem_size)) {
		errno = EINVAL;
		return NULL;
	}
	bufsize = elem_size * cap;
	/* One allocation: header, then the ring buffer.  Plain malloc (16-byte
	 * aligned, enough for any element since elements are only memcpy'd):
	 * glibc's aligned_alloc(64) made chan_new 3x slower (bench `creation`
	 * 96 -> 35 ns) and cache-line alignment bought nothing measurable. */
	c = malloc(hdr + bufsize);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	atomic_init(&c->lock.word, 0);
	atomic_init(&c->closed, false);
	atomic_init(&c->qcount, 0);
	atomic_init(&c->nsendq, 0);
	atomic_init(&c->nrecvq, 0);
	CDS_INIT_LIST_HEAD(&c->sendq);
	CDS_INIT_LIST_HEAD(&c->recvq);
	c->elem_size = elem_size;
	c->cap = cap;
	c->flags = flags;
	atomic_init(&c->refs, 1);
	c->buf = (unsigned char *)c + hdr;
	return c;
}

chan_t *chan_new(size_t elem_size, size_t cap)
{
	return chan_alloc(elem_size, cap, 0);
}

chan_t *chan__new_timer(size_t elem_size)
{
	return chan_alloc(elem_size, 1, CHAN_F_TIMER);
}

chan_t *chan_ref(chan_t *c)
{
	/* relaxed: the caller holds a reference, so the count cannot reach
	 * zero concurrently; nothing is published by taking a reference. */
	if (c)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

int chan_unref(chan_t *c)
{
	if (!c)
		return EINVAL;
	/* acq_rel: the release half orders every use of the channel by this
	 * thread before the free; the acquire half, taken by whoever drops the
	 * last reference, pairs with the other threads' releases.  (An acquire
	 * fence only on the last drop would be cheaper, but ThreadSanitizer
	 * does not model fences.) */
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return 0;
	/* Last reference.  Threads still queued mean a caller broke the
	 * ownership rule (they hold no reference): refuse rather than free
	 * memory they are about to touch.  The lock orders this check after
	 * their enqueue or unlink. */
	chan__lock(&c->lock);
	bool busy = atomic_load_explicit(&c->nsendq, memory_order_relaxed) ||
		    atomic_load_explicit(&c->nrecvq, memory_order_relaxed);
	chan__unlock(&c->lock);
	if (busy) {
		atomic_store_explicit(&c->refs, 1, memory_order_relaxed);
		return EBUSY;
	}
	free(c);
	return 0;
}

bool chan__send_locked(struct chan *c, const void *elem, bool *ok, struct chan_parker **wake)
{
	struct chan_waiter *w;

	*wake = NULL;
	if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
		*ok = false;
		return true;
	}
	if ((w = chan__dequeue(c, false))) {
		/* A receiver is waiting, so the buffer is empty: hand over. */
		chan__copy(c, w->elem, elem);
		w->success = true;
		*wake = w->parker;
		*ok = true;
		return true;
	}
	size_t n = atomic_load_explicit(&c->qcount, memory_order_relaxed);

	if (n < c->cap) {
		chan__copy(c, chan__slot(c, c->sendx), elem);
		if (++c->sendx == c->cap)
			c->sendx = 0;
		/* release: see chan_impl.h (pairs with the receive fast path) */
		atomic_store_explicit(&c->qcount, n + 1, memory_order_release);
		*ok = true;
		return true;
	}
	return false;
}

bool chan__recv_locked(struct chan *c, void *elem, bool *ok, struct chan_parker **wake)
{
	struct chan_waiter *w;
	size_t n = atomic_load_explicit(&c->qcount, memory_order_relaxed);

	*wake = NULL;
	if (n > 0) {
		chan__copy(c, elem, chan__slot(c, c->recvx));
		if ((w = chan__dequeue(c, true))) {
			/* The buffer is full and a sender waits: its value goes
			 * into the slot just freed, the new tail. */
			chan__copy(c, chan__slot(c, c->recvx), w->elem);
			w->success = true;
			*wake = w->parker;
			if (++c->recvx == c->cap)
				c->recvx = 0;
			c->sendx = c->recvx;
		} else {
			chan__zero(c, chan__slot(c, c->recvx)); /* as Go: no stale copies */
			if (++c->recvx == c->cap)
				c->recvx = 0;
			/* release: see chan_impl.h (pairs with the receive fast path) */
			atomic_store_explicit(&c->qcount, n - 1, memory_order_release);
		}
		*ok = true;
		return true;
	}
	if ((w = chan__dequeue(c, true))) {
		/* Unbuffered: take the value straight from the sender. */
		chan__copy(c, elem, w->elem);
		w->success = true;
		*wake = w->parker;
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

/*
 * Queue a waiter, unlock, park until completion or the deadline.  Returns 0
 * with *ok set on completion, ETIMEDOUT if the deadline won.  Called with
 * c->lock held; returns with it released.
 */
static int chan_block(struct chan *c, void *elem, bool send, bool *ok, int64_t deadline)
{
	struct chan_parker p;
	struct chan_waiter w;

	chan__parker_init(&p);
	chan__waiter_init(&w, &p, elem, 0);
	chan__enqueue(c, &w, send);
	chan__unlock(&c->lock);

	if (chan__park_wait(&p, deadline) == ETIMEDOUT) {
		/* Abandoned: nobody will claim w any more; take it out. */
		chan__lock(&c->lock);
		chan__unlink(c, &w, send);
		chan__unlock(&c->lock);
		return ETIMEDOUT;
	}
	*ok = w.success;
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
		   int would_block_err)
{
	struct chan_parker *wake;

	chan__lock(&c->lock);
	if (send ? chan__send_locked(c, elem, ok, &wake) : chan__recv_locked(c, elem, ok, &wake)) {
		chan__unlock(&c->lock);
		if (wake)
			chan__complete(wake);
		return 0;
	}
	if (deadline_passed(deadline)) {
		chan__unlock(&c->lock);
		return would_block_err;
	}
	/* On close, the closer zeroed a receiver's *elem already. */
	return chan_block(c, elem, send, ok, deadline);
}

static int chan_send_impl(chan_t *c, const void *elem, int64_t deadline, int would_block_err)
{
	bool ok;

	if (caa_unlikely(!c || (!elem && c->elem_size)))
		return EINVAL;
	deadline = chan__norm_deadline(deadline);
	chan__chaos_point();
	/* Non-blocking fast path, without the lock (Go's chansend): if the
	 * channel is open and full we can fail right away.  The two relaxed
	 * reads may be stale, but there is a moment between them at which the
	 * channel was open and full, so reporting EAGAIN is linearizable. */
	if (deadline == CHAN_NOWAIT && !atomic_load_explicit(&c->closed, memory_order_relaxed) &&
	    chan__send_would_block(c))
		return would_block_err;

	int err = chan_op(c, (void *)elem, true, &ok, deadline, would_block_err);

	return err ? err : ok ? 0 : EPIPE;
}

int chan_send(chan_t *c, const void *elem)
{
	return chan_send_impl(c, elem, CHAN_FOREVER, 0);
}

int chan_try_send(chan_t *c, const void *elem)
{
	return chan_send_impl(c, elem, CHAN_NOWAIT, EAGAIN);
}

int chan_send_until(chan_t *c, const void *elem, int64_t deadline)
{
	return chan_send_impl(c, elem, deadline, ETIMEDOUT);
}

static int chan_recv_impl(chan_t *c, void *elem, bool *okp, int64_t deadline, int would_block_err)
{
	bool ok;

	if (caa_unlikely(!c))
		return EINVAL;
	deadline = chan__norm_deadline(deadline);
	chan__chaos_point();
	/* Non-blocking fast path (Go's chanrecv).  Order matters: read
	 * emptiness first (acquire, so that the closed load cannot be performed
	 * before it: see chan__recv_would_block), then closed (acquire, pairs
	 * with the release store in chan_close()).  If we see "empty" and then
	 * "open", the channel was open and empty at the moment of the first
	 * read.  If it is closed, re-check emptiness: a channel closed and then
	 * found empty stays empty, so "closed and drained" is reported, never
	 * "open and empty" for a drained closed channel. */
	if (deadline == CHAN_NOWAIT && chan__recv_would_block(c, memory_order_acquire)) {
		if (!atomic_load_explicit(&c->closed, memory_order_acquire))
			return would_block_err;
		if (chan__recv_would_block(c, memory_order_relaxed)) {
			chan__zero(c, elem);
			if (okp)
				*okp = false;
			return 0;
		}
	}

	int err = chan_op(c, elem, false, &ok, deadline, would_block_err);

	if (!err && okp)
		*okp = ok;
	return err;
}

int chan_recv(chan_t *c, void *elem, bool *ok)
{
	return chan_recv_impl(c, elem, ok, CHAN_FOREVER, 0);
}

int chan_try_recv(chan_t *c, void *elem, bool *ok)
{
	return chan_recv_impl(c, elem, ok, CHAN_NOWAIT, EAGAIN);
}

int chan_recv_until(chan_t *c, void *elem, bool *ok, int64_t deadline)
{
	return chan_recv_impl(c, elem, ok, deadline, ETIMEDOUT);
}

int chan_close(chan_t *c)
{
	struct chan_waiter *w, *wake = NULL;

	if (!c)
		return EINVAL;
	chan__chaos_point();
	chan__lock(&c->lock);
	if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
		chan__unlock(&c->lock);
		return EALREADY;
	}
	/* release: pairs with the acquire in the lock-free receive path, so a
	 * receive that returns "closed" without the lock happens after this. */
	atomic_store_explicit(&c->closed, true, memory_order_release);
	/* Claim every waiter; complete them after unlocking (a completed
	 * owner may run at once and want this lock for its select pass 3). */
	while ((w = chan__dequeue(c, false))) {
		chan__zero(c, w->elem);
		w->success = false;
		w->wake_next = wake;
		wake = w;
	}
	while ((w = chan__dequeue(c, true))) {
		w->success = false;
		w->wake_next = wake;
		wake = w;
	}
	chan__unlock(&c->lock);
	while (wake) {
		w = wake;
		wake = w->wake_next; /* read before completing: w dies then */
		chan__complete(w->parker);
	}
	return 0;
}

size_t chan__clear(chan_t *c)
{
	size_t n;

	chan__lock(&c->lock);
	n = atomic_load_explicit(&c->qcount, memory_order_relaxed);
	if (n && c->elem_size)
		memset(c->buf, 0, c->cap * c->elem_size);
	c->sendx = c->recvx = 0;
	atomic_store_explicit(&c->qcount, 0, memory_order_release); /* as in send/recv */
	chan__unlock(&c->lock);
	return n;
}

size_t chan__refs(const chan_t *c)
{
	return atomic_load_explicit(&c->refs, memory_order_relaxed);
}

size_t chan_len(const chan_t *c)
{
	if (!c || (c->flags & CHAN_F_TIMER))
		return 0;
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
