/*
 * fiber/deadline.c - the deadline heap of parked fibers (fiber/deadline.h).
 *
 * Invariants:
 * - heap, nheap, capheap and every fiber's heap_at are under `lock` (a
 *   gowait_lock, rank 40 as a leaf: wait/lockrank.h).
 * - earliest mirrors heap[0]->deadline (INT64_MAX when empty); written
 *   under the lock, read without it as a hint by workers deciding whether
 *   to look and how long to sleep.  A stale read is harmless: a worker that
 *   pushed a deadline checks the heap itself before it sleeps (fiber/sched.c).
 */
#include "fiber/deadline.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "fiber/fiber_impl.h"
#include "wait/lock.h"

static struct {
	struct gowait_lock lock;
	struct gofiber **heap;
	size_t nheap, capheap;
	_Atomic int64_t earliest;
} D = {.earliest = INT64_MAX};

static void set(size_t i, struct gofiber *f)
{
	D.heap[i] = f;
	f->heap_at = i + 1;
}

static void up(size_t i)
{
	struct gofiber *f = D.heap[i];

	while (i > 0 && D.heap[(i - 1) / 2]->deadline > f->deadline) {
		set(i, D.heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	set(i, f);
}

static void down(size_t i)
{
	struct gofiber *f = D.heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= D.nheap)
			break;
		if (c + 1 < D.nheap && D.heap[c + 1]->deadline < D.heap[c]->deadline)
			c++;
		if (D.heap[c]->deadline >= f->deadline)
			break;
		set(i, D.heap[c]);
		i = c;
	}
	set(i, f);
}

static void publish(void)
{
	/* relaxed: a hint (see the top). */
	atomic_store_explicit(&D.earliest, D.nheap ? D.heap[0]->deadline : INT64_MAX,
			      memory_order_relaxed);
}

static void push(struct gofiber *f)
{
	if (D.nheap == D.capheap) {
		size_t cap = D.capheap ? 2 * D.capheap : 64;
		struct gofiber **h = realloc(D.heap, cap * sizeof *h);

		if (!h) { /* like Go's runtime: out of memory is fatal here */
			fputs("gochan: fiber runtime: out of memory for a deadline\n", stderr);
			abort();
		}
		D.heap = h;
		D.capheap = cap;
	}
	D.nheap++;
	set(D.nheap - 1, f);
	up(D.nheap - 1);
	publish();
}

static void remove_at(struct gofiber *f)
{
	size_t i = f->heap_at - 1;

	f->heap_at = 0;
	if (--D.nheap != i) {
		struct gofiber *m = D.heap[D.nheap];

		set(i, m);
		down(i);
		up(m->heap_at - 1);
	}
	publish();
}

bool gofiber__dl_commit(struct gofiber *f)
{
	uint32_t expected = 0;
	bool timed = f->deadline >= 0;

	if (timed)
		gowait__lock(&D.lock);
	/* acq_rel on success: the release half pairs with the acquire of the
	 * completer's exchange (gowait__complete), ordering the worker's last
	 * use of f (its queue link, this heap entry) before ready() reuses
	 * them; acquire on failure pairs with that exchange's release (the
	 * completion's data). */
	bool parked = atomic_compare_exchange_strong_explicit(
		&f->parker->futex, &expected, 2, memory_order_acq_rel, memory_order_acquire);

	if (timed) {
		if (parked)
			push(f);
		gowait__unlock(&D.lock);
	}
	return parked;
}

void gofiber__dl_forget(struct gofiber *f)
{
	gowait__lock(&D.lock);
	if (f->heap_at)
		remove_at(f);
	gowait__unlock(&D.lock);
}

struct gofiber *gofiber__dl_expire(int64_t now)
{
	struct gofiber *list = NULL, **end = &list;

	gowait__lock(&D.lock);
	while (D.nheap && D.heap[0]->deadline <= now) {
		struct gofiber *f = D.heap[0];
		uint32_t expected = 2;

		remove_at(f);
		/* relaxed: the race with a completer's exchange is decided by
		 * the order of RMWs on this one word (fiber/sched.c's top); the
		 * fiber's hand-over to whoever runs it is ordered by its run
		 * queue. */
		if (atomic_compare_exchange_strong_explicit(&f->parker->futex, &expected, 0,
							    memory_order_relaxed,
							    memory_order_relaxed)) {
			f->timed_out = true;
			f->next = NULL;
			*end = f;
			end = &f->next;
		} /* else 1: a completer's ready() is on its way */
	}
	gowait__unlock(&D.lock);
	return list;
}

int64_t gofiber__dl_earliest(void)
{
	return atomic_load_explicit(&D.earliest, memory_order_relaxed);
}
