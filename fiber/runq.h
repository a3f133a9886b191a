/*
 * fiber/runq.h - a worker slot's run queue (Go's p.runq, runqput, runqget,
 * runqgrab): a bounded ring of GOFIBER__RUNQ fibers that ONE owner (the
 * thread holding the slot) pushes at the tail and pops at the head, and
 * that any other thread steals half of from the head, plus the runnext
 * slot.  Not installed.
 *
 * Invariants:
 * - tail is written by the owner only (release store); head moves forward
 *   only by CAS (owner's pop or a thief's grab), so every fiber in
 *   [head, tail) is taken exactly once: by whoever's CAS moves head past it.
 * - tail - head <= GOFIBER__RUNQ at every instant as seen by the owner, who
 *   is the only one to make it grow; a thief that reads head and tail at
 *   different instants can see more (head moved by others in between) and
 *   retries.
 * - The slots are atomics (relaxed): a thief reads slots that the owner may
 *   overwrite once the thief's CAS has lost; the value read is then thrown
 *   away, but the read itself must not be a data race.
 * - runnext: the fiber readied by the one that runs now on this slot (Go's
 *   runnext: it inherits the time slice, so a channel hand-off between two
 *   fibers runs back and forth on one worker).  Written by the owner by
 *   exchange; a thief may take it only as a last resort (see
 *   gofiber__runq_grab), by CAS, so that an owner busy with a long fiber
 *   does not hold its readied fiber hostage (tokio #4941).
 *
 * Ordering: the owner's release store of tail pairs with a thief's acquire
 * load of tail, so the thief sees the slots (and the fibers' records and
 * saved contexts, which happened before the push).  The thief's CAS of head
 * is acq_rel: the release orders its slot reads before the owner's reuse of
 * those slots (the owner's push reads head with acquire); the owner's pop CAS
 * is the same.  runnext: the exchange and CAS are acq_rel for the same
 * reasons as the ring.
 */
#ifndef GOCHAN_FIBER_RUNQ_H
#define GOCHAN_FIBER_RUNQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define GOFIBER__RUNQ 256u /* Go's length: a power of two */

struct gofiber;

struct gofiber__runq {
	_Atomic uint32_t head; /* consumers' CAS */
	_Atomic uint32_t tail; /* owner's release store */
	_Atomic(struct gofiber *) runnext;
	_Atomic(struct gofiber *) slot[GOFIBER__RUNQ];
};

/*
 * gofiber__runq_put - owner: @f at the tail.  Returns false if the ring is
 * full (the caller moves half of it elsewhere, gofiber__runq_take_half,
 * and retries).
 */
static inline bool gofiber__runq_put(struct gofiber__runq *q, struct gofiber *f)
{
	/* acquire: pairs with the consumers' CAS release (they are done
	 * reading the slots they took). */
	uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed); /* ours */

	if (t - h >= GOFIBER__RUNQ)
		return false;
	atomic_store_explicit(&q->slot[t % GOFIBER__RUNQ], f, memory_order_relaxed);
	/* release: pairs with a thief's acquire load of tail. */
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
	return true;
}

/*
 * gofiber__runq_get - owner: runnext if set, else the head of the ring, or
 * NULL.  *@inherit is set when the fiber came from runnext.
 */
static inline struct gofiber *gofiber__runq_get(struct gofiber__runq *q, bool *inherit)
{
	struct gofiber *f = atomic_load_explicit(&q->runnext, memory_order_relaxed);

	/* acq_rel: a thief's CAS may race with ours (it takes runnext only as
	 * a last resort); whoever wins owns the fiber. */
	if (f && atomic_compare_exchange_strong_explicit(
			 &q->runnext, &f, NULL, memory_order_acq_rel, memory_order_relaxed)) {
		*inherit = true;
		return f;
	}
	*inherit = false;
	for (;;) {
		/* acquire: pairs with thieves' CAS release. */
		uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);

		if (t == h)
			return NULL;
		f = atomic_load_explicit(&q->slot[h % GOFIBER__RUNQ], memory_order_relaxed);
		/* release: our slot read comes before our own later push reuses
		 * it (and before a thief that sees the new head). */
		if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1, memory_order_acq_rel,
							  memory_order_relaxed))
			return f;
	}
}

/*
 * gofiber__runq_put_next - owner: @f becomes runnext; the fiber it displaces
 * (or NULL) is returned for the caller to put at the tail.
 */
static inline struct gofiber *gofiber__runq_put_next(struct gofiber__runq *q, struct gofiber *f)
{
	/* seq_cst: release publishes @f to a thief's CAS (acquire); acquire
	 * takes ownership of the old one; seq_cst makes it the readier's half
	 * of the spinning rule's Dekker pair (fiber/sched.c's ready(): no
	 * fence after it, as Go's runqput's CAS of runnext). */
	return atomic_exchange_explicit(&q->runnext, f, memory_order_seq_cst);
}

/* Whether the ring looks empty, and (@with_next) runnext too (racy: a hint
 * for thieves and wake-ups). */
/*
 * gofiber__runq_peek - owner: the fiber at the head of the ring (the next
 * to run after runnext), or NULL; a hint only (a thief may take it at any
 * moment), for a prefetch of its record.  relaxed: the pointer is not
 * dereferenced by the caller.
 */
static inline struct gofiber *gofiber__runq_peek(struct gofiber__runq *q)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);

	if (h == atomic_load_explicit(&q->tail, memory_order_relaxed))
		return NULL;
	return atomic_load_explicit(&q->slot[h % GOFIBER__RUNQ], memory_order_relaxed);
}

static inline bool gofiber__runq_empty(struct gofiber__runq *q, bool with_next)
{
	/* seq_cst: the idle worker's re-check after it stopped spinning (the
	 * Dekker pair with a readier's put and its read of the spinning count,
	 * fiber/sched.c). */
	uint32_t h = atomic_load_explicit(&q->head, memory_order_seq_cst);
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_seq_cst);

	return t == h &&
	       (!with_next || atomic_load_explicit(&q->runnext, memory_order_seq_cst) == NULL);
}

/*
 * gofiber__runq_grab - a thief: take half (rounded up) of @q's ring into
 * @out (at most GOFIBER__RUNQ / 2), or, if the ring is empty and
 * @take_next, its runnext.  Returns how many.
 */
static inline uint32_t gofiber__runq_grab(struct gofiber__runq *q, struct gofiber **out,
					  bool take_next)
{
	for (;;) {
		/* acquire both: pairs with the consumers' CAS and the owner's
		 * release of tail (the slots' contents). */
		uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
		uint32_t n = t - h;

		n -= n / 2;
		if (n == 0) {
			struct gofiber *f;

			if (!take_next ||
			    !(f = atomic_load_explicit(&q->runnext, memory_order_relaxed)))
				return 0;
			/* acq_rel: as gofiber__runq_get's CAS. */
			if (atomic_compare_exchange_strong_explicit(&q->runnext, &f, NULL,
								    memory_order_acq_rel,
								    memory_order_relaxed)) {
				out[0] = f;
				return 1;
			}
			continue;
		}
		if (n > GOFIBER__RUNQ / 2)
			continue; /* read head and tail at different instants */
		for (uint32_t i = 0; i < n; i++)
			out[i] = atomic_load_explicit(&q->slot[(h + i) % GOFIBER__RUNQ],
						      memory_order_relaxed);
		/* acq_rel: see the top. */
		if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + n, memory_order_acq_rel,
							  memory_order_relaxed))
			return n;
	}
}

#endif
