/*
 * wait/futex.c - the portable futex of wait/futex.h, for systems without
 * SYS_futex (or -DGOCHAN_FUTEX_PORTABLE): mutex + condition variable buckets
 * hashed by the word's address.
 *
 * Why it cannot miss a wake-up: a waiter compares *word with val while
 * holding its bucket's mutex and goes to sleep releasing it atomically
 * (pthread_cond_timedwait).  A waker has changed the word BEFORE it calls
 * gowait__futex_wake (every caller does: store/exchange, then wake), and the
 * wake takes the same mutex before broadcasting.  So either the waker's
 * mutex acquisition comes after the waiter's, and the waiter is already
 * asleep on the condition variable and gets the broadcast, or it comes
 * before, and the mutex orders the waker's change of the word before the
 * waiter's comparison, which then fails.  Broadcast (not signal): several
 * words share a bucket, and every waiter re-checks its own word.
 * Deadlines are absolute CLOCK_MONOTONIC times, as in the system call.
 */
#include "wait/futex.h"

#include "wait/debug.h"
#include "wait/cond.h"

#ifndef GOCHAN_FUTEX_SYSCALL

#include <pthread.h>
#include <stdbool.h>

#define FUTEX_BUCKETS 64 /* a power of two */

static struct futex_bucket {
	pthread_mutex_t mu;
	pthread_cond_t cv;
} buckets[FUTEX_BUCKETS];

static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
	for (unsigned i = 0; i < FUTEX_BUCKETS; i++) {
		pthread_mutex_init(&buckets[i].mu, NULL);
		gowait__cond_init(&buckets[i].cv);
	}
}

static struct futex_bucket *bucket_of(const void *word)
{
	uintptr_t h = (uintptr_t)word >> 2;

	h ^= h >> 7;
	h *= 0x9E3779B1u;
	pthread_once(&buckets_once, buckets_init);
	return &buckets[(h >> 8) & (FUTEX_BUCKETS - 1)];
}

int gowait__futex_wait(_Atomic uint32_t *word, uint32_t val, int64_t deadline_ns)
{
	struct futex_bucket *b = bucket_of(word);
	int err = 0;

	gowait__mutex_lock(&b->mu, GOWAIT_LOCKRANK_FUTEX_BUCKET);
	/* relaxed: the bucket mutex orders this load after a waker's change
	 * (see the top of the file); the caller re-reads its word with the
	 * order it needs after we return. */
	if (atomic_load_explicit(word, memory_order_relaxed) == val) {
		err = gowait__cond_wait_until(&b->cv, &b->mu, deadline_ns);
	}
	gowait__mutex_unlock(&b->mu, GOWAIT_LOCKRANK_FUTEX_BUCKET);
	return err == ETIMEDOUT ? ETIMEDOUT : 0;
}

void gowait__futex_wake(_Atomic uint32_t *word, int n)
{
	struct futex_bucket *b = bucket_of(word);

	(void)n; /* every waiter of the bucket re-checks its word */
	gowait__mutex_lock(&b->mu, GOWAIT_LOCKRANK_FUTEX_BUCKET);
	pthread_cond_broadcast(&b->cv);
	gowait__mutex_unlock(&b->mu, GOWAIT_LOCKRANK_FUTEX_BUCKET);
}

#else

/* The system call is used: nothing to emulate (ISO C wants a declaration). */
typedef int chan__futex_syscall_used;

#endif
