/*
 * fiber/stack.c - mapping, caching and guarding fiber stacks (the policy is
 * described in fiber/stack.h).
 *
 * Two levels of cache (Go's p.gFree and sched.gFree).  Each worker slot has
 * its own LIFO array (struct gofiber__stack_local, touched only by the
 * thread holding the slot, no lock): a fiber ended on a worker leaves its
 * stack there and the next fiber started on that worker takes it, its top
 * page still in the cache and the TLB.  Behind them, the global cache, a
 * growable array under a mutex, trades with the slots' caches
 * GOFIBER__STACK_BATCH stacks per lock, and serves gofiber_go() from a plain
 * thread one stack per lock.  Cached stacks keep their touched pages, so
 * that a program that starts fibers in bursts reuses warm memory instead of
 * faulting it in (skynet on integ, before any cache: 178,000 mappings,
 * two thirds of its time in the kernel).  With one global cache, skynet's
 * two workers took its mutex twice per fiber (a futex sleep and wake for
 * many of them, 12% of its time) and each other's stacks.
 *
 * New stacks come GOFIBER__STACK_BATCH to a mapping, the batch's guards in
 * one process_madvise() where the kernel takes it, and its top pages
 * populated by one more: skynet (~75,000 stacks alive at its peak) made an
 * mmap and an madvise per stack, which under mmap_lock also stalled the
 * other worker's page faults (a fifth of its time).
 *
 * What is kept, and when it goes: a slot's cache holds at most
 * GOFIBER__STACK_LOCAL stacks (a full one sends its coldest half to the
 * global cache) and is emptied into the global cache when an idle worker
 * finds the slot idle (fiber/sched.c).  The global cache has no bound at a
 * put: stacks are mapped only when both caches are empty, so the stacks
 * mapped never exceed the peak of fibers alive at once plus a batch per slot
 * (or GOFIBER_STACK_CACHE).  The trim, gofiber__stack_trim(), is made by a
 * worker thread that found nothing to run (it gave its slot back): it
 * unmaps the globally cached stacks beyond max(GOFIBER_STACK_CACHE, fibers
 * alive).  A fixed 256 made skynet (tens of thousands of fibers alive,
 * churning) map and unmap a stack for most of its 1.1 million fibers; a
 * bound of the fibers alive checked at every put still unmapped one stack
 * per ended fiber as the tree wound down (30% of skynet's time), on the
 * fibers' path.
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
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wait/debug.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 uapi */
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 uapi */
#endif
#ifndef PIDFD_SELF_THREAD
#define PIDFD_SELF_THREAD (-10000) /* Linux 6.15 uapi: the calling thread */
#endif

#define CANARY_WORDS 8
#define CANARY_SEED 0x9e3779b97f4a7c15ull
#define OVERFLOW_SLACK (64 * 1024)

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gofiber__stack *cache; /* under cache_lock; ncap entries */
static size_t ncached, ncap;         /* under cache_lock */

/* Relaxed: a hint; the worst a stale read costs is one failed madvise. */
static atomic_bool madvise_ok = true;
/* Whether process_madvise(PIDFD_SELF_THREAD, MADV_GUARD_INSTALL) may be
 * tried (Linux 6.15+).  Relaxed: a hint, as madvise_ok. */
static atomic_bool batch_ok = true;
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
	/* Relaxed: every thread computes the same value and nothing else is
	 * published through it, so a racing first call only asks twice.  (A
	 * plain static here was a data race: ThreadSanitizer saw two threads
	 * starting their first fibers at once; stress_fiber's first phase.)
	 * Lock-free on every target, so the SIGSEGV handler may read it. */
	static atomic_size_t page;
	size_t p = atomic_load_explicit(&page, memory_order_relaxed);

	if (!p) {
		p = (size_t)sysconf(_SC_PAGESIZE);
		atomic_store_explicit(&page, p, memory_order_relaxed);
	}
	return p;
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

/*
 * MADV_GUARD_INSTALL on the lowest page of stacks 1 .. @k-1 of the mapping
 * at @m (stacks of @size bytes), in one system call: process_madvise() on
 * the calling thread (PIDFD_SELF_THREAD: unlike a pidfd, it stays right
 * across fork) takes any advice for the caller's own memory since Linux
 * 6.13, and the sentinel since 6.15.  One call and one mmap_lock round per
 * batch instead of per stack (skynet maps ~75,000 stacks: 75,000 madvise
 * calls, a sixth of its time with the mmaps).  false: not done (an older
 * kernel, never tried again; or a partial result): guard() each.
 */
static bool guard_batch(char *m, size_t size, size_t k)
{
	struct iovec v[GOFIBER__STACK_BATCH];
	size_t page = gofiber__page();

	if (!atomic_load_explicit(&batch_ok, memory_order_relaxed) || k > GOFIBER__STACK_BATCH)
		return false;
	for (size_t i = 1; i < k; i++)
		v[i - 1] = (struct iovec){.iov_base = m + i * size, .iov_len = page};
	long r = syscall(SYS_process_madvise, PIDFD_SELF_THREAD, v, k - 1, MADV_GUARD_INSTALL, 0);

	if (r == (long)((k - 1) * page)) {
		/* And fault in each stack's top page (its fiber's record and
		 * first frames) in the same way: one call instead of k page
		 * faults.  Best effort: a failure leaves them to fault. */
		for (size_t i = 0; i < k; i++)
			v[i] = (struct iovec){.iov_base = m + (i + 1) * size - page,
					      .iov_len = page};
		(void)syscall(SYS_process_madvise, PIDFD_SELF_THREAD, v, k, MADV_POPULATE_WRITE, 0);
		return true;
	}
	if (r < 0 && errno != ENOMEM && errno != EAGAIN && errno != EINTR)
		atomic_store_explicit(&batch_ok, false, memory_order_relaxed);
	return false;
}

static void put_global(const struct gofiber__stack *v, size_t n);

/*
 * New stacks, GOFIBER__STACK_BATCH of them in one mapping (one if the
 * address space is short): the first into *@s, the others into @l (a
 * slot's cache, empty) or, with NULL @l, the global cache.  They are
 * guarded in address order and cached so that they are handed out in that
 * order too (an mprotect budget running out mid-batch leaves the canaries
 * to the stacks handed out last, as when they were mapped one by one).
 * 0 or ENOMEM.
 */
static int map_new(struct gofiber__stack_local *l, struct gofiber__stack *s)
{
	struct gofiber__stack t[GOFIBER__STACK_BATCH];
	size_t size = GOFIBER_STACK_SIZE + gofiber__page();
	size_t k = GOFIBER__STACK_BATCH;
	void *m = mmap(NULL, k * size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

	if (m == MAP_FAILED) { /* address space short: one will do */
		k = 1;
		m = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	}
	if (m == MAP_FAILED)
		return ENOMEM;
	bool batched = false;

	for (size_t i = 0; i < k; i++) {
		t[i] = (struct gofiber__stack){.base = (char *)m + i * size, .size = size};
		/* The first by the policy (it probes MADV_GUARD_INSTALL once);
		 * then, if that was an madvise guard, the others in one call. */
		if (i == 1)
			batched = t[0].guard == GOFIBER_GUARD_MADVISE && guard_batch(m, size, k);
		t[i].guard = batched ? GOFIBER_GUARD_MADVISE : guard(t[i].base);
		atomic_fetch_add_explicit(&kind_count[t[i].guard], 1, memory_order_relaxed);
	}
	if (t[0].guard == GOFIBER_GUARD_CANARY)
		canary_set(&t[0]); /* the others' at their get */
	*s = t[0];
	/* Both caches hand out their last entry first: the rest in reverse. */
	for (size_t i = 1, j = k - 1; i < j; i++, j--) {
		struct gofiber__stack x = t[i];

		t[i] = t[j];
		t[j] = x;
	}
	if (k > 1 && l) {
		memcpy(l->s + l->n, t + 1, (k - 1) * sizeof *t);
		l->n += (unsigned)(k - 1);
	} else if (k > 1) {
		put_global(t + 1, k - 1);
	}
	return 0;
}

int gofiber__stack_get(struct gofiber__stack_local *l, struct gofiber__stack *s)
{
	if (l && !l->n) {
		/* Refill from the global cache's top (its most recently put),
		 * in one lock, keeping the order: the hottest last. */
		gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
		size_t k = ncached < GOFIBER__STACK_BATCH ? ncached : GOFIBER__STACK_BATCH;

		ncached -= k;
		if (k)
			memcpy(l->s, cache + ncached, k * sizeof *cache);
		l->n = (unsigned)k;
		gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	}
	if (l && l->n) {
		*s = l->s[--l->n];
	} else if (l) {
		return map_new(l, s);
	} else {
		gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
		bool got = ncached;

		if (got)
			*s = cache[--ncached];
		gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
		if (!got)
			return map_new(NULL, s); /* the batch's others: global */
	}
	if (s->guard == GOFIBER_GUARD_CANARY)
		canary_set(s); /* an overflow that was reported aborted */
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

/* @n stacks from @v into the global cache (those it cannot take unmapped),
 * v[n - 1] on top. */
static void put_global(const struct gofiber__stack *v, size_t n)
{
	size_t kept;

	gowait__mutex_lock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	kept = reserve_locked(ncached + n) ? n : 0;
	if (kept)
		memcpy(cache + ncached, v, kept * sizeof *cache);
	ncached += kept;
	gowait__mutex_unlock(&cache_lock, GOWAIT_LOCKRANK_FIBER_STACKS);
	for (size_t i = kept; i < n; i++)
		unmap(&v[i]);
}

void gofiber__stack_put(struct gofiber__stack_local *l, const struct gofiber__stack *s)
{
	if (!l) {
		put_global(s, 1);
		return;
	}
	if (l->n == GOFIBER__STACK_LOCAL) {
		/* The coldest half (the bottom) goes; the hot half moves down. */
		put_global(l->s, GOFIBER__STACK_BATCH);
		memmove(l->s, l->s + GOFIBER__STACK_BATCH,
			(GOFIBER__STACK_LOCAL - GOFIBER__STACK_BATCH) * sizeof *l->s);
		l->n -= GOFIBER__STACK_BATCH;
	}
	l->s[l->n++] = *s;
}

void gofiber__stack_flush(struct gofiber__stack_local *l)
{
	if (l->n)
		put_global(l->s, l->n);
	l->n = 0;
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
