/*
 * chan/chaos.c - chaos mode: GOCHAN_CHAOS=<seed> perturbs the schedule at
 * every channel operation and select so that races in users' channel code
 * (check-then-act on chan_len, unsynchronised state "protected" by the wrong
 * channel, ...) show up in a few runs instead of one in a million.
 *
 * Switching it on.  The constructor below reads GOCHAN_CHAOS once, before
 * main().  Unset or empty: chaos is off and chan__chaos_point() costs one
 * relaxed load of a flag that never changes.  Any other value switches it on;
 * a number (decimal, 0x hex or 0 octal, as strtoull reads it) is the seed
 * itself, anything else is hashed into a seed, so GOCHAN_CHAOS=1 and
 * GOCHAN_CHAOS=nightly are both valid.  The seed is printed once to stderr
 * ("gochan: chaos mode on, seed N") so a failing run can be replayed.
 *
 * What a perturbation is.  Each thread owns a PRNG (splitmix64) seeded from
 * the global seed and the thread's sequence number, which is taken the first
 * time the thread reaches a chaos point (first-use order: for threads that
 * start and reach the channel in a fixed order that is their creation order).
 * At each chaos point the thread draws one value and does one of:
 *   40%  nothing;
 *   25%  sched_yield();
 *   20%  a spin of 100..799 cpu_relax (PAUSE) instructions, ~2..20 us;
 *   15%  a nanosleep of 10..79 us (the kernel's timer slack adds more).
 * The same seed replays the same choices on every thread; the OS scheduler
 * still adds its own nondeterminism, so a seed reproduces a race often, not
 * always.
 *
 * chan__chaos_rand() hands out the next value of the same per-thread PRNG;
 * select/ uses it for its shuffle when chaos is on, so which ready case a
 * select picks is also a function of the seed.
 */
#include "chaos.h"

#include "wait/bubble.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <urcu/arch.h>

/* Written once by the constructor (before main, before any other thread can
 * exist), read relaxed by chan__chaos_point(): it never changes afterwards,
 * so no ordering is needed. */
atomic_bool chan__chaos_on = false;
atomic_uint chan__switch_users = 0;

void chan__switch_point(void)
{
	struct gowait__bubble *b = gowait__bubble_cur;

	if (b && b->switch_point)
		b->switch_point(b);
}

/* The global seed.  Written only by the constructor, before any thread other
 * than the main one exists; pthread_create's own synchronisation publishes
 * it to every later thread, so a plain variable suffices. */
static uint64_t chaos_seed;

/* Hands out per-thread sequence numbers.  Relaxed: only uniqueness of the
 * numbers matters, nothing is published through this counter. */
static atomic_uint_fast64_t chaos_next_thread;

/* The calling thread's PRNG; chaos_inited says whether it has been seeded. */
static _Thread_local uint64_t chaos_state;
static _Thread_local bool chaos_inited;

/* splitmix64's finaliser: a bijection that spreads every input bit. */
static uint64_t chaos_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t chan__chaos_rand(void)
{
	if (!chaos_inited) {
		uint64_t seq =
			atomic_fetch_add_explicit(&chaos_next_thread, 1, memory_order_relaxed);
		/* Distinct threads get unrelated streams: mix the seed and the
		 * sequence number separately so seed s, thread t never collides
		 * with seed s+1, thread t-1. */
		chaos_state =
			chaos_mix(chaos_seed) ^ chaos_mix(seq * UINT64_C(0x9e3779b97f4a7c15) + 1);
		chaos_inited = true;
	}
	/* splitmix64: a Weyl sequence through the finaliser; period 2^64. */
	chaos_state += UINT64_C(0x9e3779b97f4a7c15);
	return chaos_mix(chaos_state);
}

void chan__chaos_perturb(void)
{
	uint64_t r = chan__chaos_rand();
	unsigned kind = (unsigned)(r % 100);
	unsigned arg = (unsigned)((r >> 32) % 700);

	if (kind < 40)
		return;
	if (kind < 65) {
		sched_yield();
		return;
	}
	if (kind < 85) {
		for (unsigned i = 0; i < 100 + arg; i++)
			caa_cpu_relax();
		return;
	}
	/* A short sleep: long enough for another thread to run a whole channel
	 * operation (or several) in the window.  errno is preserved: the
	 * caller is in the middle of a library call that may inspect it. */
	int saved = errno;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 10000 + (long)(arg % 70) * 1000};
	nanosleep(&ts, NULL);
	errno = saved;
}

/* FNV-1a: turns a non-numeric GOCHAN_CHAOS value into a seed. */
static uint64_t chaos_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
	return h;
}

__attribute__((constructor)) static void chaos_init(void)
{
	const char *v = getenv("GOCHAN_CHAOS");
	if (v == NULL || *v == '\0')
		return;
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 0);
	if (errno != 0 || end == v || *end != '\0')
		chaos_seed = chaos_hash(v);
	else
		chaos_seed = (uint64_t)n;
	fprintf(stderr, "gochan: chaos mode on, seed %llu\n", (unsigned long long)chaos_seed);
	atomic_store_explicit(&chan__chaos_on, true, memory_order_relaxed);
}
