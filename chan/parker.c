/*
 * chan/parker.c - spin, yield, then sleep: the waiting half of the claim
 * protocol described in parker.h, and the channel lock's slow path.
 *
 * Why spin at all: on these machines a futex wake of a thread asleep on the
 * other CPU costs ~20 us, while a cache-line handoff costs ~30 ns.  A
 * counterpart usually arrives within a microsecond in a busy program, so a
 * short spin turns most handoffs into pure cache traffic.  The budget is in
 * time, not iterations, because PAUSE costs vary tenfold between CPUs.  The
 * yields after the spin matter when threads outnumber cores: the counterpart
 * may be waiting for this very CPU.
 */
#include "parker.h"

#include <gochan/chan.h>
#include <sched.h>
#include <urcu/arch.h>

#include "futex.h"
#include "lock.h"

/*
 * How long a blocked operation spins (PAUSE), then yields, before it sleeps.
 * Measured on a loaded 2-vCPU VM (bench/chan_bench.c, interleaved runs):
 * spin 1 us + yield up to 50 us beat spin 4 us + 2 yields by 2-4x on every
 * blocking case (unbuffered ping-pong and producer/consumer, 4+4 threads),
 * because a yielding thread stays runnable and is completed without a
 * FUTEX_WAKE, while a sleeping one costs the waker a system call and itself
 * a wake-up latency of 5-20 us or a whole scheduling round under load.
 * A thread blocked for long burns at most ~50 us of CPU before sleeping.
 */
#ifndef CHAN_SPIN_NS
#define CHAN_SPIN_NS 2000
#endif
#ifndef CHAN_YIELD_NS
#define CHAN_YIELD_NS 50000
#endif

void chan__complete(struct chan_parker *p)
{
	/* release: pairs with the acquire loads in chan__park(); publishes the
	 * value copied into the owner's buffer and waiter.success. */
	if (atomic_exchange_explicit(&p->futex, 1, memory_order_release) == 2)
		chan__futex_wake(&p->futex, 1);
}

static inline bool complete(struct chan_parker *p)
{
	/* acquire: pairs with the release exchange in chan__complete(). */
	return atomic_load_explicit(&p->futex, memory_order_acquire) == 1;
}

/*
 * The spin budget adapts per thread (as glibc's adaptive mutexes do): a wait
 * that completes while spinning lets the budget grow by 1/8, one that needed
 * to yield or sleep halves it.  When the counterpart runs on another CPU,
 * handoffs take a few hundred ns and the budget stays high; when it shares
 * this CPU (oversubscription, or the scheduler put both on one CPU) spinning
 * can never succeed, and the budget quickly falls to the floor, so the thread
 * yields almost at once.
 */
#define CHAN_SPIN_MIN_NS 200
#define CHAN_SPIN_MAX_NS (4 * CHAN_SPIN_NS)
static _Thread_local int64_t spin_budget = CHAN_SPIN_NS;

static inline void spin_feedback(bool spun_ok)
{
	int64_t b = spin_budget;

	b = spun_ok ? b + b / 8 : b / 2;
	spin_budget = b < CHAN_SPIN_MIN_NS ? CHAN_SPIN_MIN_NS
		      : b > CHAN_SPIN_MAX_NS ? CHAN_SPIN_MAX_NS
					     : b;
}

int chan__park(struct chan_parker *p, int64_t deadline)
{
	int64_t start = chan_now(), budget = spin_budget, now;
	bool yielding = false;

	/* Phases 1 and 2: PAUSE while within the spin budget (reading the clock
	 * every 16 pauses), then yield (a yielding thread stays runnable, so a
	 * counterpart waiting for this CPU completes us without a FUTEX_WAKE)
	 * until CHAN_YIELD_NS more have passed. */
	for (unsigned i = 1;; i++) {
		if (complete(p)) {
			if (!yielding)
				spin_feedback(true);
			return 0;
		}
		if (!yielding && (i & 15)) {
			caa_cpu_relax();
			continue;
		}
		now = chan_now();
		if (deadline >= 0 && now >= deadline)
			return ETIMEDOUT;
		if (!yielding && now - start > budget) {
			yielding = true;
			spin_feedback(false);
		}
		if (yielding) {
			if (now - start > budget + CHAN_YIELD_NS)
				break;
			sched_yield();
		}
	}
	/* Phase 3: announce that we sleep (0 -> 2), then sleep while it reads 2.
	 * If the CAS fails the word is 1 (completion arrived meanwhile) or
	 * already 2 (this is the wait after a failed abandon: we announced
	 * sleeping before our deadline passed). */
	uint32_t expected = 0;

	if (!atomic_compare_exchange_strong_explicit(&p->futex, &expected, 2, memory_order_acquire,
						     memory_order_acquire) &&
	    expected == 1)
		return 0;
	for (;;) {
		int r = chan__futex_wait(&p->futex, 2, deadline);

		if (complete(p))
			return 0;
		if (r == ETIMEDOUT)
			return ETIMEDOUT;
	}
}

/*
 * The lock's slow path: bounded exponential backoff, then one yield, then
 * sleep.  Backoff (1, 2, 4 ... 64 PAUSEs between looks at the word) matters
 * when two CPUs hammer one channel: with a fixed short pause the waiter's
 * reads keep stealing the cache line from the holder and the two mostly
 * trade the line back and forth; backing off lets the holder run several
 * operations in a row.  Measured with bench/ (2 vCPUs, interleaved):
 * prodcons_c64_t1 250 -> 120 ns, select_async_contended 350 -> 155 ns,
 * select_nonblock2 180 -> 90 ns, the blocking cases unchanged.  The total
 * spin is bounded in time (CHAN_LOCK_SPIN_NS), as a preempted holder may not
 * come back for a whole time slice.
 */
#ifndef CHAN_LOCK_SPIN_NS
#define CHAN_LOCK_SPIN_NS 10000
#endif

void chan__lock_slow(struct chan_lock *l)
{
	uint32_t expected;
	int64_t start = 0;

	for (unsigned round = 0;; round++) {
		for (unsigned k = 0; k < (1u << (round < 6 ? round : 6)); k++)
			caa_cpu_relax();
		if (atomic_load_explicit(&l->word, memory_order_relaxed) == 0) {
			expected = 0;
			/* acquire: pairs with the release in chan__unlock(). */
			if (atomic_compare_exchange_weak_explicit(&l->word, &expected, 1,
								  memory_order_acquire,
								  memory_order_relaxed))
				return;
		}
		if (round == 6)
			start = chan_now();
		else if (round > 6 && chan_now() - start > CHAN_LOCK_SPIN_NS)
			break;
	}
	sched_yield();
	/* Mark the lock contended (2) and sleep until we take it.  Whoever takes
	 * it this way leaves it at 2, so its unlock wakes the next sleeper. */
	while (atomic_exchange_explicit(&l->word, 2, memory_order_acquire) != 0)
		chan__futex_wait(&l->word, 2, -1);
}
