/*
 * wait/debug.c - the checks of wait/debug.h (only with -DGOCHAN_DEBUG):
 * the assertion failure, and the per-thread stack of held lock ranks.
 */
#include "wait/debug.h"

#ifdef GOCHAN_DEBUG

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

_Noreturn void gowait__assert_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "gochan: %s:%d: assertion failed: %s\n", file, line, what);
	abort();
}

/* Deeper than any nesting the table allows: a select over 64 channels holds
 * 64 channel locks, under at most the timer's two mutexes.  Past it, ranks
 * are no longer recorded (counted only), so nothing is checked wrongly. */
#define HELD_MAX 128

struct held {
	enum gowait_lockrank rank;
	const void *addr;
};

/* Per thread, no sharing: nothing here is atomic. */
static _Thread_local struct held held[HELD_MAX];
static _Thread_local unsigned nheld, noverflow;

static void rank_fail(const char *why, enum gowait_lockrank rank, const void *addr,
		      const struct held *top)
{
	fprintf(stderr, "gochan: lock rank violation (wait/lockrank.h): %s: taking rank %d (%p)",
		why, (int)rank, addr);
	if (top)
		fprintf(stderr, " while holding rank %d (%p)", (int)top->rank, top->addr);
	fputc('\n', stderr);
	abort();
}

void gowait__rank_acquire(enum gowait_lockrank rank, const void *addr)
{
	if (nheld) {
		/* Pushes keep the stack ordered by rank (and by address within
		 * a rank), so the top is the greatest held lock. */
		const struct held *top = &held[nheld - 1];

		for (unsigned i = 0; i < nheld; i++)
			if (held[i].addr == addr)
				rank_fail("already held", rank, addr, &held[i]);
		if (rank < top->rank)
			rank_fail("out of order", rank, addr, top);
		if (rank == top->rank &&
		    (rank != GOWAIT_LOCKRANK_CHAN || (uintptr_t)addr < (uintptr_t)top->addr))
			rank_fail("same rank, not in address order", rank, addr, top);
	}
	if (nheld == HELD_MAX) {
		noverflow++;
		return;
	}
	held[nheld].rank = rank;
	held[nheld].addr = addr;
	nheld++;
}

void gowait__rank_release(enum gowait_lockrank rank, const void *addr)
{
	for (unsigned i = nheld; i-- > 0;) {
		if (held[i].addr != addr)
			continue;
		if (held[i].rank != rank)
			rank_fail("released with another rank", rank, addr, &held[i]);
		for (; i + 1 < nheld; i++)
			held[i] = held[i + 1];
		nheld--;
		return;
	}
	if (noverflow) {
		noverflow--;
		return;
	}
	rank_fail("releasing a lock not held", rank, addr, NULL);
}

int gowait__rank_wait_begin(const void *addr)
{
	for (unsigned i = nheld; i-- > 0;) {
		if (held[i].addr != addr)
			continue;
		/* The stack is ordered by rank, so "no lock ranked above it"
		 * is "it is the top". */
		if (i + 1 != nheld) {
			fprintf(stderr,
				"gochan: lock rank violation (wait/lockrank.h): condition wait on "
				"rank %d (%p) while holding rank %d (%p)\n",
				(int)held[i].rank, addr, (int)held[nheld - 1].rank,
				held[nheld - 1].addr);
			abort();
		}
		nheld--;
		return (int)held[i].rank;
	}
	if (noverflow)
		return -1; /* unknown: do not fail */
	fprintf(stderr,
		"gochan: lock rank violation (wait/lockrank.h): condition wait on a mutex not "
		"held (%p)\n",
		addr);
	abort();
}

void gowait__rank_wait_end(int rank, const void *addr)
{
	if (rank >= 0)
		gowait__rank_acquire((enum gowait_lockrank)rank, addr);
}

bool gowait__rank_held(const void *addr)
{
	for (unsigned i = 0; i < nheld; i++)
		if (held[i].addr == addr)
			return true;
	return noverflow != 0; /* unknown: do not fail */
}

bool gowait__rank_none_held(void)
{
	return nheld == 0 && noverflow == 0;
}

#else

/* ISO C forbids an empty translation unit. */
typedef int gowait__debug_unused;

#endif
