/*
 * wait/lock.c - the channel lock's slow path (wait/lock.h has the fast path
 * and the states of the lock word).
 *
 * Bounded exponential backoff, then one yield (while yields pay on this
 * thread: wait/yield.h), then sleep.  Backoff (1, 2,
 * 4 ... 64 PAUSEs between looks at the word) matters when two CPUs hammer
 * one channel: with a fixed short pause the waiter's reads keep stealing the
 * cache line from the holder and the two mostly trade the line back and
 * forth; backing off lets the holder run several operations in a row.
 * Measured with bench/ (2 vCPUs, interleaved): prodcons_c64_t1 250 -> 120
 * ns, select_async_contended 350 -> 155 ns, select_nonblock2 180 -> 90 ns,
 * the blocking cases unchanged.  The total spin is bounded in time
 * (CHAN_LOCK_SPIN_NS), as a preempted holder may not come back for a whole
 * time slice.
 */
#include "wait/lock.h"

#include <gochan/chan.h>
#include <urcu/arch.h>

#include "wait/bubble.h"
#include "wait/stats.h"
#include "wait/yield.h"

#ifndef CHAN_LOCK_SPIN_NS
#define CHAN_LOCK_SPIN_NS 10000
#endif

void gowait__lock_slow(struct gowait_lock *l)
{
	uint32_t expected;
	int64_t start = 0;

	for (unsigned round = 0;; round++) {
		for (unsigned k = 0; k < (1u << (round < 6 ? round : 6)); k++)
			caa_cpu_relax();
		if (atomic_load_explicit(&l->word, memory_order_relaxed) == 0) {
			expected = 0;
			/* acquire: pairs with the release in gowait__unlock(). */
			if (atomic_compare_exchange_weak_explicit(&l->word, &expected, 1,
								  memory_order_acquire,
								  memory_order_relaxed))
				return;
		}
		if (round == 6)
			start = gowait__mono_now();
		else if (round > 6 && gowait__mono_now() - start > CHAN_LOCK_SPIN_NS)
			break;
	}
	/* One yield, unless yields do not pay on this thread now (wait/yield.h). */
	gowait__yield_wait(gowait__mono_now());
	/* Mark the lock contended (2) and sleep until we take it.  Whoever takes
	 * it this way leaves it at 2, so its unlock wakes the next sleeper.
	 * acquire: pairs with the release exchange in gowait__unlock(). */
	while (atomic_exchange_explicit(&l->word, 2, memory_order_acquire) != 0) {
		GOWAIT_STAT(GOWAIT_ST_LOCK_SLEEP);
		gowait__slept(gowait__mono_now());
		gowait__futex_wait(&l->word, 2, -1);
	}
}
