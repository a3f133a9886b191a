/*
 * timer/heap.c - the binary min-heap of armed timers, keyed by deadline, and
 * the slot reservations that keep insertion allocation-free.  Everything
 * here runs under g->mu.
 *
 * Each entry keeps its key beside the timer pointer so that sifts compare
 * keys without touching the timers; each timer records its position
 * (t->heap_idx), so removing any timer is O(log n).
 */
#include <errno.h>
#include <stdlib.h>

#include "timer/timer_impl.h"

#define HEAP_MIN_CAP 64

static void heap_put(size_t i, struct heap_ent e)
{
	g->heap[i] = e;
	e.t->heap_idx = i;
}

static void sift_up(size_t i, struct heap_ent e)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (g->heap[p].when <= e.when)
			break;
		heap_put(i, g->heap[p]);
		i = p;
	}
	heap_put(i, e);
}

static void sift_down(size_t i, struct heap_ent e)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= g->n)
			break;
		if (c + 1 < g->n && g->heap[c + 1].when < g->heap[c].when)
			c++;
		if (e.when <= g->heap[c].when)
			break;
		heap_put(i, g->heap[c]);
		i = c;
	}
	heap_put(i, e);
}

void gotime__heap_insert(struct gotime_timer *t, int64_t when)
{
	/* g->n < g->reserved <= g->cap: t's own slot is free. */
	sift_up(g->n++, (struct heap_ent){.when = when, .t = t});
	if (t->handleless && !t->bubble)
		gotime__handleless_added_locked();
}

void gotime__heap_remove(struct gotime_timer *t)
{
	size_t i = t->heap_idx;
	struct heap_ent last = g->heap[--g->n];

	if (t->handleless && !t->bubble)
		g->handleless--;
	t->heap_idx = HEAP_NONE;
	if (i == g->n)
		return;
	if (i > 0 && last.when < g->heap[(i - 1) / 2].when)
		sift_up(i, last);
	else
		sift_down(i, last);
}

int gotime__heap_reserve(void)
{
	if (g->reserved == g->cap) {
		size_t ncap = g->cap ? 2 * g->cap : HEAP_MIN_CAP;
		struct heap_ent *h;
		if (ncap > SIZE_MAX / sizeof(*h))
			return ENOMEM;
		h = realloc(g->heap, ncap * sizeof(*h));
		if (!h)
			return ENOMEM;
		g->heap = h;
		g->cap = ncap;
	}
	g->reserved++;
	return 0;
}

void gotime__heap_unreserve(void)
{
	g->reserved--;
	/* Shrink when three quarters of the array are unused. */
	if (g->cap > HEAP_MIN_CAP && g->reserved < g->cap / 4) {
		struct heap_ent *h = realloc(g->heap, g->cap / 2 * sizeof(*h));
		if (h) { /* else keep the larger array: still correct */
			g->heap = h;
			g->cap /= 2;
		}
	}
}
