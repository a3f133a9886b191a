/*
 * wait/word.h - wait for a 32-bit word to change, parking the caller's agent
 * (a fiber on a fiber, else the thread) through wait/park.h: THE wait of the
 * library's non-channel blocking calls (gowg_wait and the groups' waits, the
 * timer module's wait for AfterFunc functions), so that each parks a fiber
 * exactly as a channel operation does.  Not installed; not for users.
 *
 * It has the futex's contract (wait/futex.h), so a futex word converts by
 * renaming the two calls:
 *   - gowait__word_wait returns at once if *word != val when it looks, and
 *     that look is atomic with joining the waiter list with respect to a
 *     wake that follows a change of the word;
 *   - it may return spuriously (0): every caller re-checks its word in a loop;
 *   - gowait__word_wake never reads or writes *word: only its address is a
 *     key, so a wake after the word's memory was freed (or reused) is
 *     harmless (at worst a spurious return of a waiter on a reused address).
 *
 * Why not a waiter list inside the object: a waiter that sees the word change
 * may free the object at once (a WaitGroup freed after its wait), while the
 * waker still has waiters to complete.  Like Go's runtime/sema.go (semtable,
 * a table of lock + waiter queue keyed by address), the lists live in a
 * static table of buckets hashed by the word's address (wait/word.c).
 *
 * Cost.  A wake with no waiter in the word's bucket makes no system call and
 * takes no lock: one seq_cst fence and one load (wait/word.c).  A waiter is
 * a struct gowait_parker on its stack: a thread sleeps at once on its own
 * parker's futex (gowait__park_wait_long: no spin, no yield, as Go's
 * semacquire; the waits here last, and on 2 CPUs the spin and yield phases
 * made a thread-pool go+wait 1.5-1.7x slower, while sleeping at once stays
 * within 2-5% of the raw futex, see
 * bench/results/2026-12-07-word-wait-2vcpu-loaded.txt); a fiber switches
 * away and is readied by the waker (ops->ready).  A waker completes its waiters after releasing the bucket
 * lock, and pays a FUTEX_WAKE only for a thread that really sleeps.
 *
 * Deadlines are exact as for channels: a waiter whose deadline passes either
 * abandons its parker (nobody will complete it) and unlinks itself, or was
 * claimed by a waker first and then returns 0 (woken), never both.
 */
#ifndef GOCHAN_WAIT_WORD_H
#define GOCHAN_WAIT_WORD_H

#include <stdatomic.h>
#include <stdint.h>

#include "wait/record.h"

/*
 * gowait__word_wait - park the calling agent while *@word == @val, until a
 * gowait__word_wake on @word wakes it or the chan_now() time @deadline passes
 * (GOWAIT_FOREVER: none; any other negative time: already passed).  Returns
 * 0 (woken, *@word != @val already, or spuriously: re-check) or ETIMEDOUT.
 * No ordering of its own beyond the futex's: the caller re-reads @word with
 * the order it needs (every caller's re-read is an acquire).  No lock of
 * wait/lockrank.h may be held (it parks).  While it waits, the agent is
 * listed in the blocked-operation record as @site's operation (godiag_dump).
 */
int gowait__word_wait(_Atomic uint32_t *word, uint32_t val, int64_t deadline,
		      const struct gowait__site *site);

/*
 * gowait__word_wake - wake up to @n (>= 1; INT_MAX: all) agents waiting on
 * @word, oldest first.  Call it after the change of *@word that they wait
 * for.  Never blocks beyond a bucket lock (a leaf, wait/lockrank.h rank 58),
 * callable with any lock of rank below 58 held, from a thread or a fiber;
 * never reads @word.
 */
void gowait__word_wake(_Atomic uint32_t *word, int n);

#endif
