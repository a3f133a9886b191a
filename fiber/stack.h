/*
 * fiber/stack.h - fiber stacks: mmap'd, cached, and guarded so that an
 * overflow is reported instead of corrupting memory, within Linux's default
 * vm.max_map_count (65,530) at 100,000 fibers.
 *
 * Layout of one stack mapping (MAP_NORESERVE | MAP_STACK: only touched
 * pages cost memory or commit charge):
 *   [base, base + page)         the guard page (or, without one, the canary page)
 *   [base + page, base + size)  the usable stack; the fiber's record sits at
 *                               its top, the C stack grows down from below it
 *
 * The guard policy, per stack, first that works:
 *   MADVISE   madvise(MADV_GUARD_INSTALL) on the lowest page (Linux 6.13+):
 *             a guard that does not split the mapping, so adjacent stacks
 *             merge into few mappings (probed once to really fault: an
 *             emulator may accept the advice and do nothing);
 *   MPROTECT  mprotect(PROT_NONE) of the lowest page, while fewer than the
 *             budget (vm.max_map_count / 8, read once) are alive: each costs
 *             about two mappings, the budget a quarter of the limit;
 *   CANARY    the lowest page stays writable and its top 64 bytes hold a
 *             pattern, checked at every switch away from the fiber and at its
 *             exit: an overflow is caught late (after it happened; an
 *             overflow of less than a page corrupted nothing but the page),
 *             and missed if the overflowing frames happen to leave those 64
 *             bytes unwritten (frames have gaps) and stay within the page.
 * Faults in a guard page are reported by fiber/overflow.c.
 */
#ifndef GOCHAN_FIBER_STACK_H
#define GOCHAN_FIBER_STACK_H

#include <stdbool.h>
#include <stddef.h>

enum gofiber__guard {
	GOFIBER_GUARD_MADVISE,
	GOFIBER_GUARD_MPROTECT,
	GOFIBER_GUARD_CANARY
};

struct gofiber__stack {
	char *base;  /* the mapping */
	size_t size; /* of the whole mapping, guard page included */
	enum gofiber__guard guard;
};

/* The usable stack of @s. */
static inline char *gofiber__stack_lo(const struct gofiber__stack *s);
static inline char *gofiber__stack_hi(const struct gofiber__stack *s)
{
	return s->base + s->size;
}

/* gofiber__stack_get - a stack with GOFIBER_STACK_SIZE usable bytes, from
 * the cache or a new mapping.  0 or ENOMEM.  Any thread. */
int gofiber__stack_get(struct gofiber__stack *s);

/* gofiber__stack_put - back into the cache (unmapped only if the cache
 * cannot grow).  Not on @s itself.  Any thread. */
void gofiber__stack_put(const struct gofiber__stack *s);

/* gofiber__stack_trim - unmap the cached stacks beyond
 * max(GOFIBER_STACK_CACHE, @alive) (@alive: the fibers alive).  Made by a
 * worker thread that found no work, off the fibers' path.  Any thread. */
void gofiber__stack_trim(long alive);

/* Whether @s's canary is intact (always true for a guarded stack). */
bool gofiber__stack_canary_ok(const struct gofiber__stack *s);

/* Whether a fault at @addr is an overflow of @s: in its guard page or at
 * most 64 KiB below the mapping (a large frame can jump over the guard). */
bool gofiber__stack_overflowed_at(const struct gofiber__stack *s, const void *addr);

/* The page size (cached). */
size_t gofiber__page(void);

/* Test hooks: whether MADV_GUARD_INSTALL may be tried, and the budget of
 * mprotect guards (negative: the default).  Affects stacks mapped later. */
void gofiber__stack_policy(bool madvise_ok, long mprotect_budget);

/* Test hook: stacks alive or cached, by guard kind. */
void gofiber__stack_counts(long counts[3]);

static inline char *gofiber__stack_lo(const struct gofiber__stack *s)
{
	return s->base + gofiber__page();
}

#endif
