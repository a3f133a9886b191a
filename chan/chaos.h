/*
 * chan/chaos.h - the hook through which chaos mode perturbs scheduling.
 *
 * Chaos mode (for fuzzing users' channel code) is switched on by the
 * environment variable GOCHAN_CHAOS=<seed> read once at load time.  Every
 * channel operation and select calls chan__chaos_point() on entry; when chaos
 * is off that is one relaxed load of a global flag that never changes after
 * start-up, so it costs nothing measurable.  The implementation (chaos.c)
 * yields, spins or does nothing, chosen by a per-thread PRNG seeded from the
 * seed, so the same seed replays the same perturbations as closely as the OS
 * scheduler allows.  select/ also draws its case order from chan__chaos_rand()
 * when chaos is on, so the choice among ready cases is reproducible.
 */
#ifndef GOCHAN_CHAN_CHAOS_H
#define GOCHAN_CHAN_CHAOS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Set once by chaos.c's constructor before main(); read relaxed (it never
 * changes afterwards, so no ordering is needed). */
extern atomic_bool chan__chaos_on;

/* Bubbles running with switch points (gochan/bubble.h): while non-zero,
 * chan__chaos_point also offers the bubble a switch.  Relaxed: a bubble
 * counts itself in on its worker before its first fiber runs, and only its
 * own worker's points need to see it. */
extern atomic_uint chan__switch_users;

/* A switch point for the calling bubble fiber, if any (wait/bubble.h). */
void chan__switch_point(void);

/* Perturb the calling thread's schedule (yield / spin / nothing). */
void chan__chaos_perturb(void);

/* The next value of the calling thread's chaos PRNG (only when chaos is on). */
uint64_t chan__chaos_rand(void);

static inline bool chan__chaos_enabled(void)
{
	return __builtin_expect(atomic_load_explicit(&chan__chaos_on, memory_order_relaxed), 0);
}

/* Whether chan__chaos_point would do anything now (chaos mode, or a bubble
 * with switch points): a fast path without a call in it tests this and
 * leaves the point to its out-of-line remainder. */
static inline bool chan__chaos_hooked(void)
{
	/* Both loads, one test (relaxed: see the declarations). */
	unsigned on = atomic_load_explicit(&chan__chaos_on, memory_order_relaxed);
	unsigned sw = atomic_load_explicit(&chan__switch_users, memory_order_relaxed);

	return __builtin_expect((on | sw) != 0, 0);
}

static inline void chan__chaos_point(void)
{
	if (chan__chaos_enabled())
		chan__chaos_perturb();
	if (__builtin_expect(atomic_load_explicit(&chan__switch_users, memory_order_relaxed) != 0,
			     0))
		chan__switch_point();
}

#endif
