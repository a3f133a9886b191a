/*
 * wait/lock.h - the channel lock: a three-state futex mutex that spins
 * briefly before sleeping.
 *
 * States of `word`: 0 unlocked, 1 locked, 2 locked and someone may sleep on
 * it.  Critical sections under a channel lock are a few dozen nanoseconds
 * (a queue splice and a memcpy), so a contended locker first spins with
 * exponential backoff for up to ~10 us (the holder is almost always running
 * on the other CPU; see gowait__lock_slow for the measurements), then yields
 * once (the holder may be preempted on this CPU when threads outnumber
 * cores), and only then sleeps.  Unlock wakes a sleeper only when the word
 * says one may exist (2): an uncontended unlock is one atomic exchange, never
 * a system call.
 *
 * Ordering: lock is an acquire (successful CAS/exchange), unlock a release
 * (exchange); every channel field written under the lock is therefore
 * ordered between consecutive holders.  This is the ordering on which the
 * memory-model promises of chan.h rest.
 *
 * Where it sits in the library's lock order: wait/lockrank.h (rank 40,
 * GOWAIT_LOCKRANK_CHAN: the channel lock, and fiber/group.c's group lock,
 * which nests with nothing).  With -DGOCHAN_DEBUG every lock and unlock
 * checks that rank against the locks this thread holds (wait/debug.h), and
 * GOWAIT_ASSERT_HELD(&l) checks a "caller holds" comment.  The slow path is
 * wait/lock.c.
 */
#ifndef GOCHAN_WAIT_LOCK_H
#define GOCHAN_WAIT_LOCK_H

#include <stdatomic.h>
#include <stdint.h>
#include <urcu/compiler.h>

#include "wait/debug.h"
#include "wait/futex.h"

struct gowait_lock {
	_Atomic uint32_t word;
};

/* Contended acquisition (wait/lock.c): backoff, one yield, then sleep. */
void gowait__lock_slow(struct gowait_lock *l);

/* gowait__lock_ranked - the lock at rank @rank of wait/lockrank.h (the
 * word waiter lists' buckets, wait/word.c); gowait__lock is rank 40. */
static inline void gowait__lock_ranked(struct gowait_lock *l, enum gowait_lockrank rank)
{
	uint32_t expected = 0;

	gowait__rank_acquire(rank, l);
	/* acquire: pairs with the release exchange in gowait__unlock(). */
	if (caa_likely(atomic_compare_exchange_strong_explicit(
		    &l->word, &expected, 1, memory_order_acquire, memory_order_relaxed)))
		return;
	gowait__lock_slow(l);
}

static inline void gowait__unlock_ranked(struct gowait_lock *l, enum gowait_lockrank rank)
{
	gowait__rank_release(rank, l);
	/* release: pairs with the acquire in gowait__lock()/gowait__lock_slow(). */
	uint32_t old = atomic_exchange_explicit(&l->word, 0, memory_order_release);

	GOWAIT_ASSERT(old != 0); /* it was locked */
	if (caa_unlikely(old == 2))
		gowait__futex_wake(&l->word, 1);
}

static inline void gowait__lock(struct gowait_lock *l)
{
	gowait__lock_ranked(l, GOWAIT_LOCKRANK_CHAN);
}

static inline void gowait__unlock(struct gowait_lock *l)
{
	gowait__unlock_ranked(l, GOWAIT_LOCKRANK_CHAN);
}

#endif
