/*
 * wait/word.c - the word waiter lists of wait/word.h: a static table of
 * buckets, each a lock, a count of its waiters and a FIFO of them, keyed by
 * the address of the word they wait on (Go's runtime/sema.go semtable, with
 * the futex's compare-and-sleep instead of a semaphore count).
 *
 * Invariants (b = the bucket of a waiter's word):
 *   - a waiter is in b->q from its check of the word (under b->lock) until a
 *     waker unlinks it (under b->lock) or, after an abandon, it unlinks
 *     itself (under b->lock); its node is self-linked (empty) once unlinked,
 *     so each of them can tell whether the other already did it;
 *   - b->nwait is the number of waiters in b->q plus those between their
 *     increment and their check; it changes only under b->lock, and is read
 *     without it only by a waker's fast path (below);
 *   - a waker claims (gowait__claim) every waiter it unlinks, and completes
 *     the claimed ones only after releasing b->lock; a waiter whose claim
 *     fails has abandoned (its deadline) and is simply dropped: it returns
 *     ETIMEDOUT.  A claimed waiter never sees ETIMEDOUT (wait/park.h), so no
 *     wake is lost to a deadline: it goes to the next waiter instead.
 *   - after gowait__complete() the waker touches no waiter again: the
 *     waiter's stack frame may be gone.
 *
 * The waker's fast path (no waiter: no lock, no system call) is a Dekker
 * pair of seq_cst fences:
 *   waiter: nwait++ ; fence(seq_cst) ; load *word  (all under b->lock)
 *   waker:  change *word (the caller) ; fence(seq_cst) ; load nwait
 * Either the waiter's load sees the change (and it returns without parking),
 * or the waker's load sees the waiter counted and it takes b->lock, which
 * the waiter holds until it is queued, so the waker finds it in the queue.
 */
#include "wait/word.h"

#include <errno.h>
#include <urcu/list.h>

#include "wait/clock.h"
#include "wait/debug.h"
#include "wait/lock.h"
#include "wait/park.h"

/* Buckets: enough that unrelated words rarely share one (a shared bucket
 * only costs a wake a longer scan and, at worst, its lock held a little
 * longer), few enough for one 4 KiB table. */
#define WORD_BUCKETS 64

struct word_waiter {
	struct gowait_parker p;
	_Atomic uint32_t *word;      /* the key; immutable while queued */
	struct cds_list_head node;   /* in its bucket's q; under its lock */
	struct word_waiter *claimed; /* a waker's private list, after the claim */
};

struct word_bucket {
	struct gowait_lock lock; /* rank 58 (wait/lockrank.h), a leaf */
	_Atomic uint32_t nwait;  /* see the top; written under lock */
	struct cds_list_head q;  /* FIFO: queued at the tail, woken from the head */
} __attribute__((aligned(64)));

static struct word_bucket buckets[WORD_BUCKETS];

/* The queues are set up before main (a constructor, as timer/thread.c's
 * condition variable): a static list head cannot point at itself in an
 * initialiser of an array without spelling out every element. */
__attribute__((constructor)) static void word_init(void)
{
	for (int i = 0; i < WORD_BUCKETS; i++)
		CDS_INIT_LIST_HEAD(&buckets[i].q);
}

static struct word_bucket *bucket_of(const _Atomic uint32_t *word)
{
	/* Fibonacci hashing of the address (words are 4-aligned). */
	uint64_t h = ((uint64_t)(uintptr_t)word >> 2) * UINT64_C(0x9e3779b97f4a7c15);

	return &buckets[h >> (64 - 6)];
}
_Static_assert(WORD_BUCKETS == 1 << 6, "bucket_of takes the top 6 bits");

int gowait__word_wait(_Atomic uint32_t *word, uint32_t val, int64_t deadline,
		      const struct gowait__site *site)
{
	/* A deadline already passed (negative, not "none"): one look.
	 * Relaxed: the caller re-reads with the order it needs. */
	if (deadline < 0 && deadline != GOWAIT_FOREVER)
		return atomic_load_explicit(word, memory_order_relaxed) != val ? 0 : ETIMEDOUT;

	struct word_bucket *b = bucket_of(word);
	struct word_waiter w;

	gowait__parker_init(&w.p);
	w.word = word;
	gowait__lock_ranked(&b->lock, GOWAIT_LOCKRANK_WORD);
	/* Relaxed RMW: b->lock orders it among waiters and wakers that lock;
	 * the fence orders it against a lock-free waker (see the top). */
	atomic_fetch_add_explicit(&b->nwait, 1, memory_order_relaxed);
	/* seq_cst fence: the Dekker partner of the one in gowait__word_wake. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(word, memory_order_relaxed) != val) {
		atomic_fetch_sub_explicit(&b->nwait, 1, memory_order_relaxed);
		gowait__unlock_ranked(&b->lock, GOWAIT_LOCKRANK_WORD);
		return 0;
	}
	cds_list_add_tail(&w.node, &b->q);
	gowait__unlock_ranked(&b->lock, GOWAIT_LOCKRANK_WORD);

	int ret = gowait__park_wait_long(&w.p, deadline, site);

	if (ret == ETIMEDOUT) {
		/* Abandoned: nobody will complete us, but a waker whose claim
		 * failed may already have unlinked us (and counted us out). */
		gowait__lock_ranked(&b->lock, GOWAIT_LOCKRANK_WORD);
		if (!cds_list_empty(&w.node)) {
			cds_list_del(&w.node);
			atomic_fetch_sub_explicit(&b->nwait, 1, memory_order_relaxed);
		}
		gowait__unlock_ranked(&b->lock, GOWAIT_LOCKRANK_WORD);
	}
	/* ret == 0: the waker unlinked us before its claim, and the
	 * completion (acquire in the park) ended its use of @w. */
	return ret;
}

void gowait__word_wake(_Atomic uint32_t *word, int n)
{
	struct word_bucket *b = bucket_of(word);
	struct word_waiter *w, *tmp, *claimed = NULL, **tail = &claimed;

	GOWAIT_ASSERT(n >= 1);
	/* seq_cst fence: the Dekker partner of the one in gowait__word_wait;
	 * the caller's change of *@word is sequenced before it.  Relaxed
	 * load: a waiter counted after the fence has seen the change. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&b->nwait, memory_order_relaxed) == 0)
		return;
	gowait__lock_ranked(&b->lock, GOWAIT_LOCKRANK_WORD);
	cds_list_for_each_entry_safe(w, tmp, &b->q, node) {
		if (w->word != word)
			continue; /* another word of this bucket */
		cds_list_del_init(&w->node);
		atomic_fetch_sub_explicit(&b->nwait, 1, memory_order_relaxed);
		/* acq_rel (wait/park.h); fails only if its owner abandoned it
		 * (deadline): then it is dropped, and this wake goes on to the
		 * next waiter. */
		if (gowait__claim(&w->p, 1)) {
			*tail = w;
			tail = &w->claimed;
			if (--n == 0)
				break;
		}
	}
	*tail = NULL;
	gowait__unlock_ranked(&b->lock, GOWAIT_LOCKRANK_WORD);
	while (claimed) {
		w = claimed;
		claimed = w->claimed; /* before completing: @w may die then */
		/* release: the caller's change of *@word (and all before it)
		 * is visible to the waiter once it returns. */
		gowait__complete(&w->p);
	}
}
