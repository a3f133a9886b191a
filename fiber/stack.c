/*
 * fiber/stack.c - mapping, caching and guarding fiber stacks (the policy is
 * described in fiber/stack.h).
 *
 * The cache is a growable array under a mutex: stacks are taken by
 * gofiber_go() on any thread and returned by the worker when a fiber ends.
 * Cached stacks keep their touched pages, so that a program that starts
 * fibers in bursts reuses warm memory instead of faulting it in: a new
 * mapping costs mmap, madvise (the guard), page faults and a later munmap,
 * many times a reused stack (skynet on integ: 178,000 of each, two thirds
 * of its time in the kernel).
 *
 * No bound at a put: a stack is mapped only when the cache is empty, so the
 * stacks mapped never exceed the peak of fibers alive at once (or
 * GOFIBER_STACK_CACHE).  The trim, gofiber__stack_trim(), is made by a
 * worker thread that found nothing to run (it gave its slot back): it
 * unmaps the cached stacks beyond max(GOFIBER_STACK_CACHE, fibers alive).
 * A fixed 256 made skynet (tens of thousands of fibers alive, churning) map
 * and unmap a stack for most of its 1.1 million fibers; a bound of the
 * fibers alive checked at every put still unmapped one stack per ended
 * fiber as the tree wound down (30% of skynet's time), on the fibers' path.
 */
#include "fiber/stack.h"

#include <errno.h>
#include <fcntl.h>
#include <gochan/fiber.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wait/debug.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 uapi */
#endif

#define CANARY_WORDS 8
#define CANARY_SEED 0x9e3779b97f4a7c15ull
#define OVERFLOW_SLACK (64 * 1024)

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gofiber__stack *cache; /* under cache_lock; ncap entries */
static size_t ncached, ncap;         /* under cache_lock */

/* Relaxed: a hint; the worst a stale read costs is one failed madvise. */
static atomic_bool madvise_ok = true;
/* Whether an installed guard was seen to fault: 0 not probed yet, 1 yes,
 * -1 no.  Relaxed: probing twice is harmless. */
static atomic_int madvise_probed;
/* The mprotect budget (-1: not read yet) and the guards alive; under
 * cache_lock. */
static long mprotect_budget = -1;
static long mprotect_alive;
/* Stacks alive or cached per guard kind (relaxed counters; tests only). */
static atomic_long kind_count[3];

size_t gofiber__page(void)
{
	static size_t page; /* racy but idempotent */

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

static long default_budget(void)
{
	long max = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 65530;
		fclose(f);
	}
	return max / 8;
}

void gofiber__stack_policy(bool use_madvise, long budget)
{
	atomic_store_explicit(&madvise_ok, use_madvise, memory_order_relaxed);
	gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	mprotect_budget = budget < 0 ? default_budget() : budget;
	gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
}

void gofiber__stack_counts(long counts[3])
{
	for (int i = 0; i < 3; i++)
		counts[i] = atomic_load_explicit(&kind_count[i], memory_order_relaxed);
}

static uint64_t *canary(const struct gofiber__stack *s)
{
	return (uint64_t *)(gofiber__stack_lo(s) - CANARY_WORDS * sizeof(uint64_t));
}

static void canary_set(const struct gofiber__stack *s)
{
	uint64_t *c = canary(s);

	for (int i = 0; i < CANARY_WORDS; i++)
		c[i] = CANARY_SEED ^ (uint64_t)(uintptr_t)&c[i];
}

bool gofiber__stack_canary_ok(const struct gofiber__stack *s)
{
	if (s->guard != GOFIBER_GUARD_CANARY)
		return true;
	const uint64_t *c = canary(s);

	for (int i = 0; i < CANARY_WORDS; i++)
		if (c[i] != (CANARY_SEED ^ (uint64_t)(uintptr_t)&c[i]))
			return false;
	return true;
}

bool gofiber__stack_overflowed_at(const struct gofiber__stack *s, const void *addr)
{
	uintptr_t a = (uintptr_t)addr, lo = (uintptr_t)s->base;

	return a < lo + gofiber__page() && a + OVERFLOW_SLACK >= lo;
}

/*
 * Whether the guard just installed on @page really faults: an emulator may
 * accept MADV_GUARD_INSTALL and do nothing (qemu-user 7.2 returns 0 for
 * every madvise).  A write(2) from the page into a pipe fails with EFAULT
 * if it is guarded.  Done once.
 */
static bool guard_faults(const char *page)
{
	int fd[2];
	bool faults = false;

	if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) != 0)
		return false;
	faults = write(fd[1], page, 1) == -1 && errno == EFAULT;
	close(fd[0]);
	close(fd[1]);
	return faults;
}

/* Guard the lowest page of a fresh mapping, by the first policy that works. */
static enum gofiber__guard guard(char *base)
{
	size_t page = gofiber__page();

	if (atomic_load_explicit(&madvise_ok, memory_order_relaxed)) {
		if (madvise(base, page, MADV_GUARD_INSTALL) == 0) {
			int probed = atomic_load_explicit(&madvise_probed, memory_order_relaxed);

			if (probed == 0) {
				probed = guard_faults(base) ? 1 : -1;
				atomic_store_explicit(&madvise_probed, probed,
						      memory_order_relaxed);
			}
			if (probed == 1)
				return GOFIBER_GUARD_MADVISE;
			atomic_store_explicit(&madvise_ok, false, memory_order_relaxed);
		} else if (errno == EINVAL) { /* an older kernel: never again */
			atomic_store_explicit(&madvise_ok, false, memory_order_relaxed);
		}
	}
	gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	if (mprotect_budget < 0)
		mprotect_budget = default_budget();
	bool take = mprotect_alive < mprotect_budget;

	if (take)
		mprotect_alive++;
	gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	if (take) {
		if (mprotect(base, page, PROT_NONE) == 0)
			return GOFIBER_GUARD_MPROTECT;
		gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
		mprotect_alive--;
		gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	}
	return GOFIBER_GUARD_CANARY;
}

int gofiber__stack_get(struct gofiber__stack *s)
{
	gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	if (ncached) {
		*s = cache[--ncached];
		gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
		if (s->guard == GOFIBER_GUARD_CANARY)
			canary_set(s); /* an overflow that was reported aborted */
		return 0;
	}
	gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);

	size_t size = GOFIBER_STACK_SIZE + gofiber__page();
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

	if (m == MAP_FAILED)
		return ENOMEM;
	s->base = m;
	s->size = size;
	s->guard = guard(m);
	if (s->guard == GOFIBER_GUARD_CANARY)
		canary_set(s);
	atomic_fetch_add_explicit(&kind_count[s->guard], 1, memory_order_relaxed);
	return 0;
}

/* Unmap @s (not cached).  cache_lock not held. */
static void unmap(const struct gofiber__stack *s)
{
	if (s->guard == GOFIBER_GUARD_MPROTECT) {
		gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
		mprotect_alive--;
		gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	}
	atomic_fetch_sub_explicit(&kind_count[s->guard], 1, memory_order_relaxed);
	munmap(s->base, s->size);
}

/* The array holds @want entries (under cache_lock); false if out of memory. */
static bool reserve_locked(size_t want)
{
	if (want <= ncap)
		return true;
	size_t cap = ncap ? 2 * ncap : GOFIBER_STACK_CACHE;

	while (cap < want)
		cap *= 2;
	struct gofiber__stack *c = realloc(cache, cap * sizeof *c);

	if (!c)
		return false;
	cache = c;
	ncap = cap;
	return true;
}

void gofiber__stack_put(const struct gofiber__stack *s)
{
	bool keep;

	gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	keep = reserve_locked(ncached + 1);
	if (keep)
		cache[ncached++] = *s;
	gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	if (!keep)
		unmap(s);
}

void gofiber__stack_trim(long alive)
{
	size_t bound = alive > GOFIBER_STACK_CACHE ? (size_t)alive : GOFIBER_STACK_CACHE;

	for (;;) {
		/* In batches, the unmaps outside the lock: gets go on meanwhile. */
		struct gofiber__stack drop[32];
		size_t n = 0;

		gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
		while (ncached > bound && n < sizeof drop / sizeof drop[0])
			drop[n++] = cache[--ncached];
		gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
		if (!n)
			return;
		while (n)
			unmap(&drop[--n]);
	}
}
