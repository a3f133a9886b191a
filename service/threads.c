/*
 * service/threads.c - the library-thread counters of service/threads.h.
 *
 * One mutex and condition variable guard the per-kind counts.  Starting and
 * exiting a library thread is rare (a timer thread start, an AfterFunc, a
 * group task), so a mutex costs nothing measurable and makes the wait exact.
 */
#include "service/threads.h"

#include "wait/debug.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <gochan/chan.h>

#include "wait/cond.h"

static pthread_mutex_t threads_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t threads_cv;
static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static unsigned threads_alive[GODIAG_THREAD_KINDS];
static unsigned threads_total;

static void threads_init(void)
{
	gowait__cond_init(&threads_cv);
}

void gosvc__thread_start(enum godiag_thread_kind k)
{
	pthread_once(&threads_once, threads_init);
	gowait__mutex_lock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
	threads_alive[k]++;
	threads_total++;
	gowait__mutex_unlock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
}

void gosvc__thread_exit(enum godiag_thread_kind k)
{
	pthread_once(&threads_once, threads_init);
	gowait__mutex_lock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
	threads_alive[k]--;
	if (--threads_total == 0)
		pthread_cond_broadcast(&threads_cv);
	gowait__mutex_unlock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
}

void gosvc__thread_exit_unlock(enum godiag_thread_kind k, pthread_mutex_t *mu,
			       enum gowait_lockrank rank)
{
	pthread_once(&threads_once, threads_init);
	gowait__mutex_lock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
	/* Released while we hold threads_mu: whoever acquires @mu after this
	 * and then threads_mu (gosvc__threads_sync) comes after our release
	 * below.  Lock order: @mu ranks below threads_mu (wait/lockrank.h,
	 * checked by the lock above in a debug build). */
	gowait__mutex_unlock(mu, rank);
	threads_alive[k]--;
	if (--threads_total == 0)
		pthread_cond_broadcast(&threads_cv);
	/* The caller's last access (in a debug build the held-rank stack, in
	 * this thread's own storage, is updated after it). */
	gowait__mutex_unlock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
}

void gosvc__threads_sync(void)
{
	gowait__mutex_lock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
	gowait__mutex_unlock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
}

const char *gosvc__thread_kind_name(enum godiag_thread_kind k)
{
	static const char *const names[GODIAG_THREAD_KINDS] = {
		"timer", "afterfunc", "poller", "group", "diag", "fiber",
	};

	return k < GODIAG_THREAD_KINDS ? names[k] : "total";
}

unsigned gosvc__threads_alive(enum godiag_thread_kind k)
{
	unsigned n;

	gowait__mutex_lock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
	n = k == GODIAG_THREAD_KINDS ? threads_total : threads_alive[k];
	gowait__mutex_unlock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
	return n;
}

int gosvc__threads_wait(int64_t deadline)
{
	int err = 0;

	pthread_once(&threads_once, threads_init);
	gowait__mutex_lock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
	while (threads_total != 0 && err == 0)
		err = gowait__cond_wait_until(&threads_cv, &threads_mu, deadline);
	if (threads_total == 0)
		err = 0;
	gowait__mutex_unlock(&threads_mu, GOWAIT_LOCKRANK_DIAG_THREADS);
	return err;
}
