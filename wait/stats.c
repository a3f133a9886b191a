/* wait/stats.c - see wait/stats.h. */
#include "wait/stats.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

const char *const gowait__stat_names[GOWAIT_ST_N] = {
	"yield", "yield_off", "late",       "late_ours",  "probe",      "probe_ok",   "replace",
	"park",  "park_spin", "park_yield", "park_sleep", "futex_wait", "futex_wake", "lock_sleep",
};

#ifdef GOWAIT_STATS
struct stat_block {
	_Atomic uint64_t n[GOWAIT_ST_N];
	struct stat_block *next; /* written before the block is published */
};

/* The list of every thread's block.  release on the push (the CAS), acquire
 * on every load of the head (the reader's, and the pusher's before it links
 * the old head): a reader sees each block's next and zeroed counters. */
static struct stat_block *_Atomic blocks;
static _Thread_local struct stat_block *mine;

void gowait__stat_add(enum gowait_stat s)
{
	struct stat_block *b = mine;

	if (b == NULL) {
		b = calloc(1, sizeof *b);
		if (b == NULL)
			return;
		b->next = atomic_load_explicit(&blocks, memory_order_acquire);
		while (!atomic_compare_exchange_weak_explicit(
			&blocks, &b->next, b, memory_order_release, memory_order_acquire))
			;
		mine = b;
	}
	/* One writer (this thread): relaxed load and store, no RMW. */
	atomic_store_explicit(&b->n[s], atomic_load_explicit(&b->n[s], memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

int gowait__stats_read(uint64_t out[GOWAIT_ST_N])
{
	memset(out, 0, GOWAIT_ST_N * sizeof out[0]);
	/* acquire: pairs with the release CAS of gowait__stat_add's push. */
	for (struct stat_block *b = atomic_load_explicit(&blocks, memory_order_acquire); b;
	     b = b->next)
		for (int i = 0; i < GOWAIT_ST_N; i++)
			out[i] += atomic_load_explicit(&b->n[i], memory_order_relaxed);
	return 1;
}
#else
int gowait__stats_read(uint64_t out[GOWAIT_ST_N])
{
	memset(out, 0, GOWAIT_ST_N * sizeof out[0]);
	return 0;
}
#endif
