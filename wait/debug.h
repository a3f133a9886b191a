/*
 * wait/debug.h - the invariants the code checks in a debug build
 * (-DGOCHAN_DEBUG; `zig build debug-test` runs the Criterion suite and the
 * stress programs in it).  Not installed; not for users.
 *
 * GOWAIT_ASSERT(cond): abort with the file, line and condition when @cond is
 * false.  Without GOCHAN_DEBUG the condition is not evaluated at all (it is
 * compiled as `(void)sizeof(cond)`, so it still has to compile): no release
 * build pays for a check.
 *
 * The lock ranks (Go's lockrank_on.go): each thread keeps a small stack of
 * the locks it holds, with their rank from wait/lockrank.h.  Taking a lock
 * whose rank is not above every held one aborts, naming both, except where
 * the table allows nesting within a rank (GOWAIT_LOCKRANK_CHAN: select takes
 * channel locks in increasing address order, each once).
 *   gowait__rank_acquire(rank, addr)  before blocking on the lock at @addr;
 *   gowait__rank_release(rank, addr)  when it is unlocked (any order);
 *   gowait__rank_held(addr)           whether this thread holds it: what
 *                                     "caller holds" asserts
 *                                     (GOWAIT_ASSERT_HELD);
 *   gowait__rank_none_held()          whether it holds no lock of the table
 *                                     (a park holds none);
 *   gowait__rank_wait_begin(addr)     before a condition wait on the mutex at
 *                                     @addr: aborts unless this thread holds
 *                                     it and holds no lock ranked above it
 *                                     (the wait retakes it with every other
 *                                     held lock still held, so it must be
 *                                     the greatest); takes it off the stack
 *                                     for the wait and returns its rank;
 *   gowait__rank_wait_end(rank, addr) after the wait: back on the stack.
 * Every lock of the table that is taken through wait/lock.h or
 * gowait__mutex_lock/unlock (below) is tracked, and gowait__cond_wait_until
 * (wait/cond.h) keeps the stack right across its wait; a pthread mutex
 * locked directly is not tracked (only the fork handlers do that, see
 * wait/lockrank.h).
 */
#ifndef GOCHAN_WAIT_DEBUG_H
#define GOCHAN_WAIT_DEBUG_H

#include <pthread.h>
#include <stdbool.h>

#include "wait/lockrank.h"

/* Print "@file:@line: assertion failed: @what" and abort. */
_Noreturn void gowait__assert_fail(const char *file, int line, const char *what);

/* Declared in every build (assertions name them inside sizeof), defined
 * only with GOCHAN_DEBUG (wait/debug.c). */
bool gowait__rank_held(const void *addr);
bool gowait__rank_none_held(void);

#ifdef GOCHAN_DEBUG

#define GOWAIT_ASSERT(cond) ((cond) ? (void)0 : gowait__assert_fail(__FILE__, __LINE__, #cond))

void gowait__rank_acquire(enum gowait_lockrank rank, const void *addr);
void gowait__rank_release(enum gowait_lockrank rank, const void *addr);
/* The rank of the lock at @addr, or -1 when it is not recorded (the stack
 * overflowed): gowait__rank_wait_end then records nothing either. */
int gowait__rank_wait_begin(const void *addr);
void gowait__rank_wait_end(int rank, const void *addr);

#else

/* Not evaluated: the condition only has to compile. */
#define GOWAIT_ASSERT(cond) ((void)sizeof(cond))

static inline void gowait__rank_acquire(enum gowait_lockrank rank, const void *addr)
{
	(void)rank;
	(void)addr;
}

static inline void gowait__rank_release(enum gowait_lockrank rank, const void *addr)
{
	(void)rank;
	(void)addr;
}

static inline int gowait__rank_wait_begin(const void *addr)
{
	(void)addr;
	return -1;
}

static inline void gowait__rank_wait_end(int rank, const void *addr)
{
	(void)rank;
	(void)addr;
}

#endif

#define GOWAIT_ASSERT_HELD(addr) GOWAIT_ASSERT(gowait__rank_held(addr))

/* A pthread mutex of the table, taken and released with its rank checked in
 * a debug build (plain pthread_mutex_lock/unlock otherwise). */
static inline void gowait__mutex_lock(pthread_mutex_t *mu, enum gowait_lockrank rank)
{
	gowait__rank_acquire(rank, mu);
	pthread_mutex_lock(mu);
}

static inline void gowait__mutex_unlock(pthread_mutex_t *mu, enum gowait_lockrank rank)
{
	pthread_mutex_unlock(mu);
	gowait__rank_release(rank, mu);
}

#endif
