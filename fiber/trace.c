/*
 * fiber/trace.c - the counters of fiber/trace.h (with -DGOFIBER_TRACE only).
 * Each thread counts in a block of its own (no shared line on the paths
 * measured), linked once into a list that the exit-time dump sums; blocks
 * are never freed (a diagnostic build).
 */
#include "fiber/trace.h"

#ifdef GOFIBER_TRACE
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const names[GOFIBER_EV_N] = {
	"ready_next", "displace", "ready_global", "wake",       "steal",
	"steal_one",  "spin_gq",  "giveup",       "respin",     "sleep",
	"watch",      "commit",   "commit_fail",  "get_next",   "get_ring",
	"run",        "migrate",  "wakep_ready",  "wakep_spin",
};

struct block {
	uint64_t n[GOFIBER_EV_N];
	/* Where this thread ran its fibers: sched_getcpu() every 1024th run,
	 * for CPUs 0-7 (a slow mode that is the host's vCPU, not a decision). */
	uint64_t cpu[8];
	struct block *next;
};

static struct block *_Atomic all;
static _Thread_local struct block *mine;

void gofiber__trace(enum gofiber__ev ev)
{
	if (!mine) {
		mine = calloc(1, sizeof *mine);
		if (!mine)
			return;
		/* relaxed load, release CAS: pairs with the dump's acquire. */
		mine->next = atomic_load_explicit(&all, memory_order_relaxed);
		while (!atomic_compare_exchange_weak_explicit(
			&all, &mine->next, mine, memory_order_release, memory_order_relaxed))
			;
	}
	mine->n[ev]++; /* racy reads at exit: a diagnostic */
	if (ev == GOFIBER_EV_RUN && (mine->n[ev] & 1023) == 0) {
		int c = sched_getcpu();

		if (c >= 0 && c < 8)
			mine->cpu[c]++;
	}
}

__attribute__((destructor)) static void dump(void)
{
	if (!getenv("GOFIBER_TRACE"))
		return;
	/* acquire: pairs with the release CAS above. */
	struct block *head = atomic_load_explicit(&all, memory_order_acquire);

	for (int i = 0; i < GOFIBER_EV_N; i++) {
		uint64_t n = 0;

		for (struct block *b = head; b; b = b->next)
			n += b->n[i];
		fprintf(stderr, "%s=%llu ", names[i], (unsigned long long)n);
	}
	fputs("runs/thread:", stderr);
	for (struct block *b = head; b; b = b->next) {
		fprintf(stderr, " %llu", (unsigned long long)b->n[GOFIBER_EV_RUN]);
		if (b->n[GOFIBER_EV_RUN] >= 1024) {
			fputs("@cpu", stderr);
			for (int c = 0; c < 8; c++)
				if (b->cpu[c])
					fprintf(stderr, "[%d]%llu", c,
						(unsigned long long)b->cpu[c]);
		}
	}
	fputc('\n', stderr);
}
#else
typedef int gofiber__trace_off; /* ISO C: a translation unit declares something */
#endif
