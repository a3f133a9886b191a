/*
 * fiber/stack.h - fiber stacks: mmap'd, cached, and guarded so that an
 * overflow is reported instead of corrupting memory, within Linux's default
 * vm.max_map_count (65,530) at 100,000 fibers.
 *
 * Stacks are mapped GOFIBER__STACK_BATCH at a time (one mmap, adjacent;
 * each stack its own guard) when a worker's cache and the global cache are
 * empty, singly for a gofiber_go from a plain thread.  Each is unmapped on
 * its own (munmap of its range), as if it had been mapped alone.
 * Layout of one stack (MAP_NORESERVE | MAP_STACK: only touched pages cost
 * memory or commit charge):
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

/*
 * A worker slot's own cache of stacks (Go's p.gFree): a LIFO array that only
 * the thread holding the slot touches, without a lock, so that a fiber
 * started on a worker gets the stack that the last fiber to end there left,
 * still hot in the cache and the TLB.  It trades with the global cache (and
 * maps new stacks) GOFIBER__STACK_BATCH at a time: one lock, or one mmap,
 * per batch instead of per fiber.  It holds at most GOFIBER__STACK_LOCAL
 * stacks; the scheduler empties it into the global cache when the slot goes
 * idle (gofiber__stack_flush), where the idle trim sees it.
 */
#define GOFIBER__STACK_LOCAL 64
#define GOFIBER__STACK_BATCH 32

struct gofiber__stack_local {
	unsigned n; /* entries in s[], the last the hottest */
	struct gofiber__stack s[GOFIBER__STACK_LOCAL];
};

/* gofiber__stack_get - a stack with GOFIBER_STACK_SIZE usable bytes, from
 * @l (a slot's cache, by the thread holding the slot; NULL: none), else the
 * global cache, else new mappings (with @l: a batch of them in one mmap,
 * the rest kept in @l).  0 or ENOMEM.  Any thread. */
int gofiber__stack_get(struct gofiber__stack_local *l, struct gofiber__stack *s);

/* gofiber__stack_put - back into @l (as above; a full @l first moves its
 * coldest half to the global cache), or with NULL @l into the global cache
 * (unmapped only if the cache cannot grow).  Not on @s itself.  Any
 * thread. */
void gofiber__stack_put(struct gofiber__stack_local *l, const struct gofiber__stack *s);

/* gofiber__stack_flush - every stack of @l into the global cache (@l's
 * owner, or whoever keeps its slot from being taken meanwhile). */
void gofiber__stack_flush(struct gofiber__stack_local *l);

/* gofiber__stack_trim - unmap the globally cached stacks beyond
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
