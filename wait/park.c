/*
 * wait/park.c - spin, yield, then sleep: the waiting half of the claim
 * protocol described in wait/park.h, and the one park-abandon-park sequence
 * (gowait__park_wait) that every blocking operation uses.
 *
 * Why spin at all: on these machines a futex wake of a thread asleep on the
 * other CPU costs ~20 us, while a cache-line handoff costs ~30 ns.  A
 * counterpart usually arrives within a microsecond in a busy program, so a
 * short spin turns most handoffs into pure cache traffic.  The budget is in
 * time, not iterations, because PAUSE costs vary tenfold between CPUs.  The
 * yields after the spin matter when threads outnumber cores: the counterpart
 * may be waiting for this very CPU.
 */
#include "wait/park.h"

#include <errno.h>
#include <gochan/chan.h>
#include <time.h>
#include <urcu/arch.h>

#include "wait/bubble.h"
#include "wait/clock.h"
#include "wait/debug.h"
#include "wait/futex.h"
#include "wait/stats.h"
#include "wait/yield.h"

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

const struct gowait_fiber_ops *_Atomic gowait__fiber_ops;

void gowait__set_fiber_ops(const struct gowait_fiber_ops *ops)
{
	/* release: pairs with the acquire in gowait__ops(); the ops table (and
	 * whatever the runtime set up before installing it) is seen whole. */
	atomic_store_explicit(&gowait__fiber_ops, ops, memory_order_release);
}

void gowait__complete(struct gowait_parker *p)
{
	/* Read before the exchange: after it the parker may be gone. */
	void *agent = p->agent;

	/* Claimed (a token) or an exclusive waiter dequeued (WAITING); never an
	 * abandoned parker.  relaxed: our own claim, or the owner's init that
	 * the channel lock ordered before us. */
	GOWAIT_ASSERT(atomic_load_explicit(&p->state, memory_order_relaxed) !=
		      GOWAIT_PARK_ABANDONED);
	/* release: pairs with the acquire loads in park() (and the fiber
	 * runtime's park); publishes the value copied into the owner's buffer
	 * and waiter.success.  For a fiber also acquire: it pairs with the
	 * release of the fiber runtime's commit CAS (0 -> 2, on its worker's
	 * scheduler after the switch), so the worker's last use of the fiber's
	 * run-queue link happens before ready() rewrites it (a race TSan found
	 * in tests/stress/stress_fiber.c).  A thread keeps the release-only
	 * exchange: its owner's CAS 0 -> 2 publishes nothing the completer
	 * reads afterwards.  Two constant orders, not one chosen at run time:
	 * a non-constant order compiles as seq_cst. */
	/* A bubble's fiber completed from outside its bubble before its park
	 * committed (the word still 0): no ready() will reach the bubble's
	 * inbox, which counts the others, so count it here, before the
	 * exchange lets the fiber (and so its bubble) go on.  If the word
	 * turned 2 in between, the inbox counts it: undone below, before
	 * ready(), while the fiber is still parked.  Only while some bubble
	 * runs (relaxed: a hint). */
	struct gowait__bubble *early = NULL;

	if (caa_unlikely(agent != NULL) &&
	    caa_unlikely(atomic_load_explicit(&gowait__bubbles_live, memory_order_relaxed) != 0) &&
	    atomic_load_explicit(&p->futex, memory_order_relaxed) == 0) {
		const struct gowait_fiber_ops *ops = gowait__ops();
		struct gowait__bubble *ab = ops->bubble_of ? ops->bubble_of(agent) : NULL;

		if (ab && ab != gowait__bubble_cur) {
			atomic_fetch_add_explicit(&ab->early_outside, 1, memory_order_relaxed);
			early = ab;
		}
	}
	uint32_t old = caa_unlikely(agent != NULL)
			       ? atomic_exchange_explicit(&p->futex, 1, memory_order_acq_rel)
			       : atomic_exchange_explicit(&p->futex, 1, memory_order_release);

	GOWAIT_ASSERT(old != 1); /* completed once only */
	/* A bubble's worker completing a plain thread: the thread goes on
	 * outside the bubble, at the OS's pace (wait/bubble.h). */
	if (caa_unlikely(agent == NULL) && caa_unlikely(gowait__bubble_cur != NULL))
		gowait__bubble_cur->thread_wakes++;
	if (caa_unlikely(early != NULL) && old == 2) /* the inbox counts it */
		atomic_fetch_sub_explicit(&early->early_outside, 1, memory_order_relaxed);
	if (old == 2) {
		if (caa_unlikely(agent != NULL))
			gowait__ops()->ready(agent); /* ops are set: a fiber exists */
		else {
			GOWAIT_STAT(GOWAIT_ST_FUTEX_WAKE);
			gowait__futex_wake(&p->futex, 1);
		}
	}
}

static inline bool complete(struct gowait_parker *p)
{
	/* acquire: pairs with the release exchange in gowait__complete(). */
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
	spin_budget = b < CHAN_SPIN_MIN_NS   ? CHAN_SPIN_MIN_NS
		      : b > CHAN_SPIN_MAX_NS ? CHAN_SPIN_MAX_NS
					     : b;
}

/*
 * park - wait for completion or @deadline (GOWAIT_FOREVER: none), having
 * started at chan_now() time @start; with @spin false, sleep at once (phase
 * 3 only, gowait__park_wait_long).  Returns 0 when complete, ETIMEDOUT when
 * the deadline passed first.
 */
static int park(struct gowait_parker *p, int64_t deadline, int64_t start, bool spin)
{
	int64_t budget = spin_budget, now;
	bool yielding = false;

	/* Phases 1 and 2 (only with @spin): PAUSE while within the spin budget
	 * (reading the clock every 16 pauses), then yield (a yielding thread
	 * stays runnable, so a counterpart waiting for this CPU completes us
	 * without a FUTEX_WAKE) until CHAN_YIELD_NS more have passed. */
	if (spin)
		GOWAIT_STAT(GOWAIT_ST_PARK);
	for (unsigned i = 1; spin; i++) {
		if (complete(p)) {
			GOWAIT_STAT(yielding ? GOWAIT_ST_PARK_YIELD : GOWAIT_ST_PARK_SPIN);
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
		/* Each yield goes through gowait__yield, which stops yielding on
		 * this thread while yields come back late (the CPU is taken by
		 * work that does not serve us): then we sleep at once. */
		if (yielding && (now - start > budget + CHAN_YIELD_NS || !gowait__yield_wait(now)))
			break;
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
	GOWAIT_STAT(GOWAIT_ST_PARK_SLEEP);
	gowait__slept(chan_now());
	for (;;) {
		GOWAIT_STAT(GOWAIT_ST_FUTEX_WAIT);
		int r = gowait__futex_wait(&p->futex, 2, deadline);

		if (complete(p))
			return 0;
		if (r == ETIMEDOUT)
			return ETIMEDOUT;
	}
}

/*
 * The owner gives up waiting (deadline).  Returns true if it won (nobody
 * will complete it), false if a counterpart claimed it first.  acq_rel:
 * the release half orders our earlier reads of the waiter before any later
 * reuse; the acquire on failure pairs with the claim's release, so the
 * claimer came first and we must wait for its completion.
 */
static inline bool abandon(struct gowait_parker *p)
{
	uint32_t expected = GOWAIT_PARK_WAITING;

	return atomic_compare_exchange_strong_explicit(&p->state, &expected, GOWAIT_PARK_ABANDONED,
						       memory_order_acq_rel, memory_order_acquire);
}

/*
 * A fiber's wait: the fiber runtime implements the same protocol (see the
 * agent interface in wait/park.h), including the abandon CAS; we only check
 * what it returns.
 */
static int park_fiber(struct gowait_parker *p, int64_t deadline)
{
	int ret = gowait__ops()->park(p, deadline);

	GOWAIT_ASSERT(ret == 0 || ret == ETIMEDOUT);
	GOWAIT_ASSERT(ret == 0 ? complete(p)
			       : atomic_load_explicit(&p->state, memory_order_relaxed) ==
					 GOWAIT_PARK_ABANDONED);
	return ret;
}

/*
 * A fiber's "since" (its park has no spin budget to time): the coarse
 * monotonic clock, the same time line as chan_now() read at the last tick,
 * so never later than chan_now() and at most a tick (1-4 ms) earlier: a
 * dump's "blocked for" stays >= 0 and is at most a tick too long.  The precise
 * clock cost a tenth of a fiber hand-off (perf on examples/fiber_sieve, one
 * worker, on a VM's vDSO clock).
 */
static int64_t since_coarse(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int park_wait(struct gowait_parker *p, int64_t deadline, const struct gowait__site *site,
		     bool spin)
{
	/* One clock read serves the spin budget and the registry's "since". */
	int64_t start = caa_unlikely(p->agent != NULL) ? since_coarse() : chan_now();
	struct gowait__rec *rec;
	int ret = 0;

	GOWAIT_ASSERT(gowait__rank_none_held()); /* wait/lockrank.h: parks hold no lock */
	GOWAIT_ASSERT(atomic_load_explicit(&p->futex, memory_order_relaxed) != 2);
	rec = gowait__block_begin(site, start, p->agent);
	if (caa_unlikely(p->agent != NULL)) {
		ret = park_fiber(p, deadline);
	} else {
		/* No agent: a thread, or a bubble's worker outside its fibers
		 * (an after_func_at function it fires): wait/bubble.h. */
		gowait__bubble_blocks("a thread park (the wait layer's thread path)",
				      site ? site->ra : NULL);
		if (park(p, deadline, start, spin) != 0) {
			if (abandon(p)) {
				ret = ETIMEDOUT;
			} else {
				/* Claimed just before our deadline: the claimer
				 * is completing right now (it is running, not
				 * blocked), so wait for it without a deadline.
				 * This second park may find the futex word at 2,
				 * left by the first sleep: it then sleeps again
				 * until the word reads 1 (see the CAS in park),
				 * never returning before the completion. */
				(void)park(p, GOWAIT_FOREVER, chan_now(), spin);
			}
		}
	}
	gowait__block_end(rec);
	/* Completed (futex 1, acquire seen) or abandoned by us. */
	GOWAIT_ASSERT(ret == 0 ? complete(p)
			       : atomic_load_explicit(&p->state, memory_order_relaxed) ==
					 GOWAIT_PARK_ABANDONED);
	return ret;
}

int gowait__park_wait(struct gowait_parker *p, int64_t deadline, const struct gowait__site *site)
{
	return park_wait(p, deadline, site, true);
}

int gowait__park_wait_long(struct gowait_parker *p, int64_t deadline,
			   const struct gowait__site *site)
{
	return park_wait(p, deadline, site, false);
}
