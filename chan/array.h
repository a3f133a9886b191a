/*
 * chan/array.h - the buffered channel's ring: a lock-free fast path that
 * falls back to the channel lock whenever somebody has to block.
 *
 * The ring is Dmitry Vyukov's bounded MPMC queue, as in crossbeam-channel's
 * array flavor: each slot carries a stamp, head and tail are position words on
 * cache lines of their own, a push or pop is one CAS on one of them plus the
 * slot's stamp.  What makes it a Go channel is one bit in each word:
 *
 *   tail word = position << 1 | TAIL_SLOW     TAIL_SLOW = closed, or any waiter
 *   head word = position << 1 | HEAD_SLOW     HEAD_SLOW = a sender waits
 *
 * A lock-free push CASes the tail word from a value with TAIL_SLOW clear; a
 * lock-free pop CASes the head word from a value with HEAD_SLOW clear.  The
 * bits are only changed under the channel lock (atomic OR/AND on the word), so
 * once a lock holder has set one, no lock-free operation on that end can start
 * (its CAS expects the bit clear and fails); they all go to the lock.
 *
 * Correctness (the rules of chan.c, which the locked paths still implement):
 *
 *  - A receiver parks only while TAIL_SLOW is set and the ring was seen empty
 *    after setting it (chan_op / select: "freeze", then poll again, then
 *    queue).  From then on every sender takes the lock and hands its value to
 *    the queued receiver, so no value can land in the buffer while a receiver
 *    sleeps (Go's invariant "recvq non-empty => buffer empty").
 *
 *  - A sender parks only after setting HEAD_SLOW and seeing the ring full.
 *    No lock-free pop can then free a slot, so no lock-free push can succeed
 *    before its unlock, where the thaw also sets TAIL_SLOW (a sender is
 *    queued).  From then on a slot only frees under the lock, where the
 *    receiver that frees it moves the first queued sender's value into the
 *    tail at once, and no lock-free push can take a slot ahead of a queued
 *    sender.  That is Go's FIFO of blocked senders on a full buffer.
 *
 *  - Operations already past their CAS when a bit is set ("in flight": slot
 *    claimed, data or stamp not yet written) are finished by their owner
 *    within a few instructions.  A lock holder that meets one (stamp behind
 *    the position) waits for it (spin, then yield), exactly as crossbeam does.
 *    Their linearization point is their CAS, before the bit was set.
 *
 *  - close sets TAIL_SLOW before it publishes `closed`: a push either CASed
 *    before that (it was sent before the close, and is received before the
 *    zero values: close drains) or fails over to the lock and sees `closed`.
 *    TAIL_SLOW then stays set.  Pops stay lock-free after close (draining).
 *
 *  - The bits are recomputed from the locked state (closed, nsendq, nrecvq)
 *    right before every unlock of a ring channel (chan__ring_thaw), never
 *    earlier: a receiver that unlinks the last queued sender must push that
 *    sender's value before a lock-free push may take the freed slot.
 *
 *  - select: its locked pass freezes its ring channels (TAIL_SLOW for a
 *    receive case, HEAD_SLOW for a send case), so that no case can become
 *    ready through a lock-free operation while it polls (Go's atomic poll of
 *    all cases) and queues its waiters; thaw then keeps just the bits its
 *    waiters need.  (A case seen ready is performed at once under the lock;
 *    only "none ready" needs the frozen view.)  Its lock-free first pass (select.c)
 *    only completes a case through the same lock-free push/pop as a plain
 *    operation, at that operation's own linearization point.
 *
 * Memory model (Go's four rules, gochan/chan.h):
 *  - send before the matching receive completes: the pusher writes the value,
 *    then stores the stamp with release; the popper loads the stamp with
 *    acquire before reading the value.
 *  - the k-th receive before the (k+C)-th send completes: the popper stores
 *    the slot's next-lap stamp with release after reading the value; the
 *    pusher of the (k+C)-th value loads it with acquire before writing.
 *  - close before a receive that reports "closed": receivers see `closed`
 *    under the lock, or in the non-blocking path through an acquire load that
 *    is ordered after the acquire load of the tail that showed "empty".
 *  - unbuffered channels do not use the ring.
 *
 * Ordering of the lock-free reads (no fence on any path).  An operation reads
 * its end's word (position p), then slot p's stamp, then, only to tell
 * "full"/"empty" from "in flight", the other end's word; each load is an
 * acquire, so the three are performed in that order.  "Empty" is then exact
 * at the moment of the tail load: head was p when read and never decreases,
 * tail is p at that moment, so head == tail then.  Likewise "full" at the
 * moment of the head load.  An operation in flight on the slot (CAS done,
 * stamp not yet written) has already moved the other end's word, so it is
 * never taken for empty or full: we back off and look again.  crossbeam
 * puts a seq_cst fence before the other-end load because its blocking
 * protocol is a Dekker handshake between that load and its waker's flag;
 * here blocking goes through the lock and the bits, whose RMWs are on the
 * same words that the lock-free CASes use (so they are totally ordered
 * with them by coherence alone), and the fence is not needed.  It cost a
 * non-blocking receive on an empty ring ~15 ns (MFENCE).  The CASes are
 * seq_cst, which on x86 every locked instruction is anyway.
 *
 * Positions: pos = lap + index, lap a multiple of one_lap = the power of two
 * above cap (so index + 1 never carries into the lap), modulo 2^63 (the word
 * holds pos << 1).  Stamps: slot i is free for position p when its stamp is
 * p, and holds the value pushed at p when its stamp is p + 1.  Wrap-around of
 * the 63-bit positions is exact because one_lap divides 2^63;
 * chan__ring_test_start() starts a ring near the wrap for tests.
 *
 * Compile with -DGOCHAN_RING=0 to disable the ring: every buffered channel
 * then uses the locked buffer of chan/buffer.h (the behaviour before the ring).
 */
#ifndef GOCHAN_CHAN_ARRAY_H
#define GOCHAN_CHAN_ARRAY_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <urcu/arch.h>
#include <urcu/compiler.h>

#include "chan/chan_impl.h" /* struct chan */
#include "wait/park.h"  /* gowait__self */
#include "wait/yield.h"

#ifndef GOCHAN_RING
#define GOCHAN_RING 1
#endif

#define CHAN_RING_BIT ((uint64_t)1) /* TAIL_SLOW / HEAD_SLOW */
#define CHAN_RING_POS_MASK (((uint64_t)1 << 63) - 1)
/* Largest capacity given a ring (positions need room for many laps). */
#define CHAN_RING_MAX_CAP ((size_t)1 << 40)

/* The two words every lock-free operation CASes, on lines of their own. */
struct chan_ring {
	_Alignas(64) _Atomic uint64_t head; /* next position to pop << 1 | HEAD_SLOW */
	_Alignas(64) _Atomic uint64_t tail; /* next position to push << 1 | TAIL_SLOW */
};

/* A slot: its stamp, then elem_size bytes of value (stride bytes in all). */
struct chan_slot {
	_Atomic uint64_t stamp;
	unsigned char data[];
};

enum chan_ring_rc {
	CHAN_RING_OK,                     /* done */
	CHAN_RING_FULL,                   /* push: no room (a linearizable observation) */
	CHAN_RING_EMPTY = CHAN_RING_FULL, /* pop: nothing buffered */
	CHAN_RING_SLOW, /* lock-free attempt refused: the bit is set, take the lock */
};

static inline struct chan_slot *chan__ring_slot(const struct chan *c, uint64_t pos)
{
	return (struct chan_slot *)(c->buf + (size_t)(pos & (c->one_lap - 1)) * c->stride);
}

/*
 * Whether @stamp may be the stamp of the slot of position @pos: whatever
 * its lap, a slot of index i is either free (stamp index i) or full (i + 1),
 * since index + 1 never carries into the lap (see "Positions" above).
 * Checked on every stamp the ring reads with -DGOCHAN_DEBUG.
 */
static inline bool chan__ring_stamp_ok(const struct chan *c, uint64_t pos, uint64_t stamp)
{
	uint64_t i = pos & (c->one_lap - 1), si = stamp & (c->one_lap - 1);

	return si == i || si == i + 1;
}

/* The position after @pos: the next index, or index 0 of the next lap. */
static inline uint64_t chan__ring_next(const struct chan *c, uint64_t pos)
{
	if ((pos & (c->one_lap - 1)) + 1 < c->cap)
		return pos + 1;
	return ((pos & ~(c->one_lap - 1)) + c->one_lap) & CHAN_RING_POS_MASK;
}

/*
 * chan__ring_snooze - the ring's one backoff (crossbeam's Backoff): step k
 * spins 2^k PAUSEs up to k = CHAN_RING_SPIN_STEPS - 1 (64 PAUSEs), later
 * steps yield when @may_yield (else spin 64 again).  Its three users:
 *  - an operation of another thread in flight on our slot (CAS done, stamp
 *    not yet written): it is running on another CPU, or preempted on ours,
 *    hence the yields;
 *  - a lost CAS on head or tail: the winner is already past its CAS and
 *    cannot hold us up, so never a yield; the spin only keeps contending
 *    threads from stealing the word's line from each other;
 *  - chan__ring_retry, before a blocking operation queues.
 */
#define CHAN_RING_SPIN_STEPS 7
static inline void chan__ring_snooze(unsigned *step, bool may_yield)
{
	if (*step < CHAN_RING_SPIN_STEPS || !may_yield) {
		unsigned k = *step < CHAN_RING_SPIN_STEPS ? *step : CHAN_RING_SPIN_STEPS - 1;

		for (unsigned i = 0; i < (1u << k); i++)
			caa_cpu_relax();
	} else {
		sched_yield();
	}
	if (*step < 2 * CHAN_RING_SPIN_STEPS) /* no overflow; past the spin it is all alike */
		(*step)++;
}

/*
 * chan__ring_push - append the value at @elem.  @locked: the caller holds the
 * channel lock and may push although TAIL_SLOW is set.  Returns CHAN_RING_OK,
 * CHAN_RING_FULL or (only when !@locked) CHAN_RING_SLOW.
 */
static inline __attribute__((always_inline)) enum chan_ring_rc chan__ring_push(struct chan *c, const void *elem, bool locked)
{
	struct chan_ring *r = c->ring;
	unsigned step = 0, cas_step = 0;
	/* acquire (here, after a backoff and on a failed CAS): the slot's stamp
	 * is read after the word that named the slot (see "Ordering" above). */
	uint64_t w = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (locked)
		GOWAIT_ASSERT_HELD(&c->lock);
	for (;;) {
		if ((w & CHAN_RING_BIT) && !locked)
			return CHAN_RING_SLOW;
		uint64_t pos = w >> 1;
		struct chan_slot *s = chan__ring_slot(c, pos);
		/* acquire: pairs with the popper's release of this stamp, so
		 * its read of the old value happens before our write. */
		uint64_t stamp = atomic_load_explicit(&s->stamp, memory_order_acquire);

		GOWAIT_ASSERT(chan__ring_stamp_ok(c, pos, stamp));

		if (stamp == pos) {
			uint64_t nw = chan__ring_next(c, pos) << 1 | (w & CHAN_RING_BIT);

			if (atomic_compare_exchange_weak_explicit(
				    &r->tail, &w, nw, memory_order_seq_cst, memory_order_acquire)) {
				if (c->elem_size)
					chan__bytes_copy(s->data, elem, c->elem_size);
				/* release: publishes the value to the popper. */
				atomic_store_explicit(&s->stamp, (pos + 1) & CHAN_RING_POS_MASK,
						      memory_order_release);
				return CHAN_RING_OK;
			}
			/* Lost the race for this position (w reloaded by the
			 * failed CAS): back off before the next attempt, as
			 * crossbeam does, so that contending pushers do not keep
			 * stealing the tail's line from the one that won. */
			chan__ring_snooze(&cas_step, false);
			continue;
		}
		if (((stamp + c->one_lap) & CHAN_RING_POS_MASK) ==
		    ((pos + 1) & CHAN_RING_POS_MASK)) {
			/* The slot holds the previous lap's value: full, unless a
			 * pop has claimed it and is still reading (then head has
			 * moved on).  acquire: keeps a later load (the re-check
			 * of the tail word after FULL) after this one; the stamp's
			 * acquire keeps this one after the stamp. */
			uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire) >> 1;

			if (((head + c->one_lap) & CHAN_RING_POS_MASK) == pos)
				return CHAN_RING_FULL;
		}
		/* Our tail is stale, or a pop is in flight. */
		chan__ring_snooze(&step, true);
		w = atomic_load_explicit(&r->tail, memory_order_acquire);
	}
}

/*
 * chan__ring_pop - take the oldest value into @elem (NULL: discard it).
 * @locked: the caller holds the channel lock and may pop although HEAD_SLOW
 * is set.  Returns CHAN_RING_OK, CHAN_RING_EMPTY or (only when !@locked)
 * CHAN_RING_SLOW.  "Empty" comes from an acquire load of the tail word, so a
 * later acquire load (of `closed`) cannot be reordered before it.
 */
static inline __attribute__((always_inline)) enum chan_ring_rc chan__ring_pop(struct chan *c, void *elem, bool locked)
{
	struct chan_ring *r = c->ring;
	unsigned step = 0, cas_step = 0;
	uint64_t w = atomic_load_explicit(&r->head, memory_order_acquire); /* as in push */

	if (locked)
		GOWAIT_ASSERT_HELD(&c->lock);
	for (;;) {
		if ((w & CHAN_RING_BIT) && !locked)
			return CHAN_RING_SLOW;
		uint64_t pos = w >> 1;
		struct chan_slot *s = chan__ring_slot(c, pos);
		/* acquire: pairs with the pusher's release; the value is there. */
		uint64_t stamp = atomic_load_explicit(&s->stamp, memory_order_acquire);

		GOWAIT_ASSERT(chan__ring_stamp_ok(c, pos, stamp));

		if (stamp == ((pos + 1) & CHAN_RING_POS_MASK)) {
			uint64_t nw = chan__ring_next(c, pos) << 1 | (w & CHAN_RING_BIT);

			if (atomic_compare_exchange_weak_explicit(
				    &r->head, &w, nw, memory_order_seq_cst, memory_order_acquire)) {
				if (c->elem_size) {
					if (elem)
						chan__bytes_copy(elem, s->data, c->elem_size);
					/* as Go: no stale copy stays in the buffer */
					chan__bytes_zero(s->data, c->elem_size);
				}
				/* release: our read happens before the next lap's
				 * push into this slot (Go's k-th receive / (k+C)-th
				 * send rule). */
				atomic_store_explicit(&s->stamp,
						      (pos + c->one_lap) & CHAN_RING_POS_MASK,
						      memory_order_release);
				return CHAN_RING_OK;
			}
			chan__ring_snooze(&cas_step, false); /* as in push */
			continue;
		}
		if (stamp == pos) {
			/* Nothing pushed at this position yet: empty, unless a
			 * push has claimed it and is still writing (then tail
			 * has moved on).  The stamp's acquire keeps this load
			 * after the stamp's. */
			uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire) >> 1;

			if (tail == pos)
				return CHAN_RING_EMPTY;
		}
		chan__ring_snooze(&step, true);
		w = atomic_load_explicit(&r->head, memory_order_acquire);
	}
}

/*
 * chan__ring_retry - an operation that may block found the ring full (@send)
 * or empty: before it takes the lock to queue itself, retry the lock-free
 * attempt for a moment, backing off exponentially (1, 2, 4 ... 64 PAUSEs),
 * then yielding up to 4 times (crossbeam's Backoff::snooze) while yields pay on
 * this thread (wait/yield.h; else it queues at once).  When the
 * counterpart runs on another CPU it usually frees a slot (or fills one)
 * within the spin, and the operation completes without the lock: no waiter
 * queued, no bit set, no wake-up.  The yields serve threads that outnumber
 * the CPUs: the counterpart may be waiting for this one (interleaved A/B,
 * 2 vCPUs: 2+2 threads on a cap-100 channel 79 -> 71 ns, 4+4 on cap 64
 * 116 -> 98 ns, boundedN_mpmc 24 -> 19 ns; cap-1 cases unchanged).  That is what keeps a small ring (capacity 1 or 2, always full or
 * empty) lock-free in a producer/consumer pair.  Semantics are untouched:
 * the operation has not queued, so it is simply a little later; only the
 * locked path may report "would block" or park.  Returns what the last
 * attempt returned (CHAN_RING_FULL / _EMPTY after the last step).
 */
/* Retry steps: CHAN_RING_SPIN_STEPS of spinning, then 4 yields. */
#define CHAN_RING_RETRY_STEPS (CHAN_RING_SPIN_STEPS + 4)
static inline enum chan_ring_rc chan__ring_retry(struct chan *c, void *elem, bool send)
{
	enum chan_ring_rc rc = CHAN_RING_FULL;
	/* The first wait grows with the capacity, up to 16 PAUSEs from 16
	 * slots on: a counterpart that has to fill (or drain) several slots
	 * before we can go on is then left to do so, and we take the values a
	 * cache line at a time instead of fighting it for the line it is
	 * writing (spsc on capacity 64: 111 -> 42 ns); a small ring has no
	 * more than a slot or two to wait for. */
	unsigned first = c->cap >= 16 ? 4 : c->cap >= 8 ? 3 : c->cap >= 4 ? 2 : c->cap >= 2;

	/* On a fiber: no retry, the operation queues at once (Go's chansend and
	 * chanrecv park without spinning).  The counterpart is often a fiber of
	 * this worker, which cannot run before this one parks: a spin only
	 * delays it, and a sched_yield hands the worker's CPU, with every
	 * runnable fiber queued on it, to another thread (bench/fiber_bench,
	 * bounded1_spsc on fibers: 84% of its time was in this loop, ~3
	 * sched_yield per pingpong_c1 round trip).  A thread pays one
	 * predictable branch (no fiber runtime) or one call (fibers exist). */
	if (caa_unlikely(gowait__self() != NULL))
		return rc;
	for (unsigned step = first; step < CHAN_RING_RETRY_STEPS;) {
		if (step < CHAN_RING_SPIN_STEPS)
			chan__ring_snooze(&step, false);
		else if (gowait__yield_wait(chan_now()))
			step++;
		else
			break; /* yields do not pay on this thread now: queue and sleep */
		rc = send ? chan__ring_push(c, elem, false) : chan__ring_pop(c, elem, false);
		if (rc != CHAN_RING_FULL)
			break;
	}
	return rc;
}

/*
 * chan__ring_recv_rejects / chan__ring_send_rejects - a non-blocking
 * receive's (send's) "would block" proved with loads only: no CAS, no store,
 * nothing written to a line the other side reads (Go's empty()/full() in
 * chanrecv/chansend with block == false).  True: the ring was empty (full)
 * and open at one instant, so EAGAIN is linearizable; false proves nothing
 * (a value or room, an operation in flight, a bit set): the caller runs the
 * whole operation.  Every load is a plain MOV on x86, so the saving is the
 * out-of-line remainder (no frame, no loop) and the `closed` load: a clear
 * TAIL_SLOW already says "open", since close sets it before it stores
 * `closed` and it never clears again (chan__ring_thaw).
 *
 * Receive: head word h (own end), the stamp of h's slot, then the tail word.
 * The stamp only filters: stamp != pos means a value is (or is about to be)
 * there, and the whole pop follows without having read the tail's line,
 * which a producer keeps writing.  Empty: the tail word is h's position with
 * TAIL_SLOW clear.  At the tail load the tail is h's position; the head was
 * h's position at the earlier head load, never decreases and never passes
 * the tail (a pop claims only a position whose push is done), so head ==
 * tail then: empty, and open (bit clear), at the tail load.  Orders: the
 * head load is an acquire so that the stamp and tail loads are performed
 * after it (partner: none, it orders our own loads; on x86 a plain MOV);
 * the stamp's acquire keeps the tail load after it; the tail load is
 * relaxed: nothing is read after it, and a failed receive receives nothing
 * whose publication it would have to see.
 *
 * Send: tail word t (own end, TAIL_SLOW clear), the stamp of t's slot, then
 * the head word.  Filter: only a slot still holding the previous lap's value
 * (stamp + one_lap == pos + 1) can mean full.  Full: head's position + one_lap
 * == t's position.  At the earlier tail load the tail was t's position, and
 * the head was at most the later-read position (it never decreases) and at
 * least t's position - one_lap (a push claims only a slot whose previous
 * lap's pop is done), so it was exactly that: full, and open (bit clear), at
 * the tail load.  Orders as for the receive, with the ends swapped.
 */
static inline __attribute__((always_inline)) bool chan__ring_recv_rejects(const struct chan *c)
{
	const struct chan_ring *r = c->ring;
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t pos = h >> 1;

	if (atomic_load_explicit(&chan__ring_slot(c, pos)->stamp, memory_order_acquire) != pos)
		return false;
	return atomic_load_explicit(&r->tail, memory_order_relaxed) == pos << 1;
}

static inline __attribute__((always_inline)) bool chan__ring_send_rejects(const struct chan *c)
{
	const struct chan_ring *r = c->ring;
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t pos = t >> 1;

	if (t & CHAN_RING_BIT)
		return false;
	if (((atomic_load_explicit(&chan__ring_slot(c, pos)->stamp, memory_order_acquire) +
	      c->one_lap) &
	     CHAN_RING_POS_MASK) != ((pos + 1) & CHAN_RING_POS_MASK))
		return false;
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed) >> 1;

	return ((h + c->one_lap) & CHAN_RING_POS_MASK) == pos;
}

/* Whether the tail word says "go to the lock" now (acquire: a re-check after
 * a FULL observation, ordered after it). */
static inline bool chan__ring_tail_slow(const struct chan *c)
{
	return atomic_load_explicit(&c->ring->tail, memory_order_acquire) & CHAN_RING_BIT;
}

/*
 * The ring's side of select's handle (chan/flavor.h).
 *
 * chan__ring_try - select's lock-free first look at a case: the same
 * lock-free push or pop as a plain operation, which completes the case at
 * that operation's own linearization point (CHAN_TRY_FIRED).  FULL /
 * EMPTY-and-open say that the case could not proceed when it was looked at
 * (CHAN_TRY_NOT_READY): a full ring re-read open, or an empty one seen open
 * after (acquire, ordered after the tail's acquire load); closing is final.
 * A bit set (a waiter or close) or a closed empty ring: the lock decides
 * (CHAN_TRY_LOCK).
 */
enum chan_try {
	CHAN_TRY_NOT_READY, /* not ready at the moment it was looked at */
	CHAN_TRY_FIRED,     /* done (*ok set) */
	CHAN_TRY_LOCK,      /* may be ready: decide under the channel lock */
};

static inline __attribute__((always_inline)) enum chan_try chan__ring_try(struct chan *c, bool send,
									  void *elem, bool *ok)
{
	enum chan_ring_rc rc =
		send ? chan__ring_push(c, elem, false) : chan__ring_pop(c, elem, false);

	if (rc == CHAN_RING_OK) {
		*ok = true;
		return CHAN_TRY_FIRED;
	}
	if (rc != CHAN_RING_SLOW &&
	    !(send ? chan__ring_tail_slow(c)
		   : atomic_load_explicit(&c->closed, memory_order_acquire)))
		return CHAN_TRY_NOT_READY;
	return CHAN_TRY_LOCK;
}

/*
 * chan__ring_version - select's version of a case for its lock-free "none
 * ready" proof (select.c, select_none_ready): a receive case's version is
 * the tail word (every push moves it; ready needs a push or a close), not
 * ready when tail == head; a send case's is the head word (every pop moves
 * it), not ready when tail == head + one lap (full).  The version is read
 * before the other word; acquire loads, so in program order.  Positions are
 * 63-bit: they cannot wrap back to the same value between two collects.
 */
static inline void chan__ring_version(const struct chan *c, bool send, uint64_t *v, bool *not_ready)
{
	const struct chan_ring *r = c->ring;

	if (send) {
		uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

		*v = h;
		*not_ready = (t >> 1) == (((h >> 1) + c->one_lap) & CHAN_RING_POS_MASK);
	} else {
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
		uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);

		*v = t;
		*not_ready = (t >> 1) == (h >> 1);
	}
}

/* Values buffered now (Go's len): exact when nobody operates on the ring. */
size_t chan__ring_len(const struct chan *c);

/* Set up an empty ring whose positions start at @start_lap (a multiple of
 * one_lap below 2^63; 0 normally).  No other thread may use @c. */
void chan__ring_init(struct chan *c, uint64_t start_lap);

/*
 * Lock-holder side (caller holds c->lock, c->ring != NULL):
 *  chan__ring_freeze - set TAIL_SLOW (@tail: no lock-free push can start, so
 *      an empty ring stays empty: receivers about to park, recv cases of a
 *      select, close) and/or HEAD_SLOW (@head: no lock-free pop can start, so
 *      a full ring stays full: senders about to park, send cases), until the
 *      next thaw;
 *  chan__ring_thaw - recompute the bits from closed/nsendq/nrecvq; called
 *      right before every unlock of a ring channel (chan__unlock_chan).
 */
void chan__ring_freeze(struct chan *c, bool tail, bool head);
void chan__ring_thaw(struct chan *c);

/* The ring's part of chan__recv_locked (caller holds c->lock): pop the head
 * into @elem; a sender queued on the full ring then has its value pushed
 * into the slot just freed and is returned in *wake.  False when empty. */
bool chan__ring_pop_locked(struct chan *c, void *elem, struct gowait_parker **wake);

/* Tests only: give the (empty, unused) ring channel @c positions that wrap
 * around 2^63 after @before_wrap more operations or so.  Returns EINVAL if
 * @c has no ring or is not empty and idle. */
int chan__ring_test_start(chan_t *c, uint64_t before_wrap);

#endif
