/*
 * group/spawn.c - the one place the group modules start a thread
 * (group__spawn, group/group_internal.h), with the library's thread
 * accounting and the test hook that makes a start fail.
 *
 * Each task gets a fresh detached thread.  A pool of idle threads was
 * measured against this (bench/group_bench.c, see its header): see there for
 * why there is none.
 */
#include "group/group_internal.h"

#include <pthread.h>
#include <stdatomic.h>

#include "diag/threads.h"

/* Test hook state: spawns left before the injected failure (0: none).
 * Relaxed: tests arm it before the calls it is meant to affect, from the
 * same thread (or one ordered before them by the test's own sync). */
static atomic_long inject_countdown;
static atomic_int inject_err;

void group__inject_spawn_failure(long k, int err)
{
	atomic_store_explicit(&inject_err, err, memory_order_relaxed);
	atomic_store_explicit(&inject_countdown, k > 0 ? k : 0, memory_order_relaxed);
}

/* Whether this spawn is the one the hook should fail (its error, or 0). */
static int injected_failure(void)
{
	long k = atomic_load_explicit(&inject_countdown, memory_order_relaxed);

	while (k > 0) {
		if (atomic_compare_exchange_weak_explicit(&inject_countdown, &k, k - 1,
							  memory_order_relaxed,
							  memory_order_relaxed))
			return k == 1 ? atomic_load_explicit(&inject_err, memory_order_relaxed) : 0;
	}
	return 0;
}

static void *group_thread(void *p)
{
	struct group_job *job = p;

	job->run(job);
	/* After run's last touch of its group; the thread's last touch of
	 * library state (release: see diag/threads.h). */
	godiag__thread_exit(GODIAG_THREAD_GROUP);
	return NULL;
}

int group__spawn(struct group_job *job)
{
	pthread_attr_t attr;
	pthread_t th;
	int err = injected_failure();

	if (err)
		return err;
	err = pthread_attr_init(&attr);
	if (err)
		return err;
	err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (!err) {
		/* Counted before the thread exists, so the count never reads 0
		 * while one is starting (diag/threads.h). */
		godiag__thread_start(GODIAG_THREAD_GROUP);
		err = pthread_create(&th, &attr, group_thread, job);
		if (err)
			godiag__thread_exit(GODIAG_THREAD_GROUP);
	}
	pthread_attr_destroy(&attr);
	return err;
}
